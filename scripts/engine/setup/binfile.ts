/**
 * The iden3 binary container snarkjs and circom use for .r1cs, .ptau, .zkey and .wtns files: a 4-byte magic, u32
 * version, u32 section count, then sections of (u32 id, u64 byte size, body), little-endian throughout.
 */
import * as fs from "fs";
import { atomicTempPath } from "../../util/paths";

export interface Section {
  id: number;
  /** File offset of the body. */
  offset: number;
  size: number;
}

/** Reads a container's section table. @throws if the magic is not `type` or the table runs past the file. */
export function readSections(file: string, type: string): Map<number, Section[]> {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(12);
    fs.readSync(fd, head, 0, 12, 0);
    if (head.toString("latin1", 0, 4) !== type) throw new Error(`${file} is not a ${type} file (magic "${head.toString("latin1", 0, 4)}")`);
    const n = head.readUInt32LE(8);
    const sections = new Map<number, Section[]>();
    let pos = 12;
    const sh = Buffer.alloc(12);
    for (let i = 0; i < n; i++) {
      if (pos + 12 > size) throw new Error(`${file}: section table truncated (section ${i} of ${n})`);
      fs.readSync(fd, sh, 0, 12, pos);
      const id = sh.readUInt32LE(0);
      const len = Number(sh.readBigUInt64LE(4));
      if (pos + 12 + len > size) throw new Error(`${file}: section ${id} runs past the end of the file`);
      const list = sections.get(id) ?? [];
      list.push({ id, offset: pos + 12, size: len });
      sections.set(id, list);
      pos += 12 + len;
    }
    return sections;
  } finally {
    fs.closeSync(fd);
  }
}

/** The body of the one section `id` of a container. @throws if it is missing or repeated. */
export function readSection(file: string, sections: Map<number, Section[]>, id: number): Buffer {
  const s = sections.get(id);
  if (!s || s.length !== 1) throw new Error(`${file}: expected one section ${id}, found ${s?.length ?? 0}`);
  const buf = Buffer.alloc(s[0].size);
  const fd = fs.openSync(file, "r");
  try {
    let done = 0;
    while (done < buf.length) done += fs.readSync(fd, buf, done, buf.length - done, s[0].offset + done);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/**
 * Streams a container to a temporary file next to `file` and renames it over `file` on `close()`; `abort()` (or a
 * failure before close) leaves no partial file. Section sizes are patched in when a section ends.
 */
export class BinFileWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private pos = 0;
  private sectionStart = -1;
  private buf = Buffer.alloc(1 << 20);
  private used = 0;
  /** Body offset and size of every section written so far, by id. */
  readonly sections = new Map<number, Section>();
  private currentId = -1;

  constructor(
    readonly file: string,
    type: string,
    version: number,
    nSections: number,
  ) {
    this.tmp = atomicTempPath(file);
    this.fd = fs.openSync(this.tmp, "w+");
    const head = Buffer.alloc(12);
    head.write(type, 0, 4, "latin1");
    head.writeUInt32LE(version, 4);
    head.writeUInt32LE(nSections, 8);
    this.write(head);
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += fs.writeSync(this.fd, this.buf, off, this.used - off, this.pos - this.used + off);
    this.used = 0;
  }

  /** Appends bytes. */
  write(data: Uint8Array): void {
    if (data.length > this.buf.length - this.used) {
      this.flush();
      if (data.length > this.buf.length) {
        let off = 0;
        while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off, this.pos + off);
        this.pos += data.length;
        return;
      }
    }
    this.buf.set(data, this.used);
    this.used += data.length;
    this.pos += data.length;
  }

  writeU32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.write(b);
  }

  beginSection(id: number): void {
    if (this.sectionStart >= 0) throw new Error(`BinFileWriter: section ${this.currentId} still open`);
    this.writeU32(id);
    this.write(Buffer.alloc(8));
    this.sectionStart = this.pos;
    this.currentId = id;
  }

  endSection(): void {
    if (this.sectionStart < 0) throw new Error("BinFileWriter: no open section");
    this.flush();
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(this.pos - this.sectionStart));
    fs.writeSync(this.fd, size, 0, 8, this.sectionStart - 8);
    this.sections.set(this.currentId, { id: this.currentId, offset: this.sectionStart, size: this.pos - this.sectionStart });
    this.sectionStart = -1;
  }

  /** Reads back `length` bytes at `offset` of what was written (flushing first). */
  readBack(offset: number, length: number): Buffer {
    this.flush();
    const b = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const r = fs.readSync(this.fd, b, done, length - done, offset + done);
      if (r === 0) throw new Error(`BinFileWriter: read back past the end (${offset}+${length})`);
      done += r;
    }
    return b;
  }

  /** Finishes the file and publishes it under its name. */
  close(): void {
    if (this.sectionStart >= 0) throw new Error(`BinFileWriter: section ${this.currentId} still open`);
    this.flush();
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  /** Drops the temporary file. */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
