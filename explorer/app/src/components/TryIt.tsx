/**
 * "Try it": raw inputs per the card (or one of its samples), a fee, the connected wallet; the SDK opens the job
 * (`InferenceClient.openJob`, the input quantized with the card as the model was built) and the job is then watched
 * live (JobLive). Loaded on demand: it brings ethers' wallet side and the contract bindings.
 */
import { useId, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { formatEther, parseEther } from "ethers";
import { api } from "../api";
import { type CardExtras, inputLabel, samplesOf } from "../card";
import { InferenceClient, quantizeWithCard, type ModelCard } from "../sdk";
import { short } from "../format";
import { useWallet, walletErrorText } from "../wallet";
import { JobLive } from "./JobLive";
import { ErrorState, Loading } from "./states";

const FIELDS_MAX = 16;
const DEFAULT_FEE_WEI = 10n ** 16n;

/** Parses raw inputs typed as separate fields or one comma/space separated list. */
function parseRaw(values: string[]): number[] | string {
  const parts = values.length === 1 ? values[0].split(/[\s,;]+/).filter(Boolean) : values;
  const out = parts.map((p) => Number(p.trim()));
  const bad = out.findIndex((v, i) => parts[i].trim() === "" || !Number.isFinite(v));
  return bad >= 0 ? `value ${bad + 1} (“${parts[bad]}”) is not a number` : out;
}

export default function TryIt({
  modelId,
  card,
  extras,
  suggestedFeeWei,
}: {
  modelId: string;
  card: ModelCard;
  extras: CardExtras;
  suggestedFeeWei: string | null;
}) {
  const uid = useId();
  const size = card.input.size;
  const fields = size <= FIELDS_MAX;
  const samples = samplesOf(card, extras);
  const [values, setValues] = useState<string[]>(() => (fields ? Array.from({ length: size }, () => "") : [""]));
  const [fee, setFee] = useState(() => formatEther(suggestedFeeWei ? BigInt(suggestedFeeWei) : DEFAULT_FEE_WEI));
  const [problem, setProblem] = useState<string>();
  const [sending, setSending] = useState(false);
  const [opened, setOpened] = useState<{ jobId: string; txHash: string }>();
  const status = useQuery({ queryKey: ["status"], queryFn: api.status, staleTime: 60_000 });
  const { state: wallet, connect, switchChain } = useWallet();

  const pickSample = (i: number) => {
    const s = samples[i];
    if (!s) return;
    const text = s.raw.map((v) => String(Number(v.toPrecision(6))));
    setValues(fields ? text : [text.join(", ")]);
  };

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setProblem(undefined);
    if (wallet.kind !== "connected" || !status.data) return;
    const raw = parseRaw(values);
    if (typeof raw === "string") return setProblem(raw);
    let feeWei: bigint;
    try {
      feeWei = parseEther(fee.trim() || "0");
    } catch {
      return setProblem(`fee “${fee}” is not an amount of ETH`);
    }
    let x: bigint[];
    try {
      x = quantizeWithCard(card, raw);
    } catch (err) {
      return setProblem((err as Error).message);
    }
    setSending(true);
    try {
      const client = await InferenceClient.connect({ jobs: status.data.jobs, runner: wallet.signer });
      const job = await client.openJob({ modelId: BigInt(modelId), input: { quantized: x }, fee: feeWei });
      setOpened({ jobId: job.jobId.toString(), txHash: job.txHash });
    } catch (err) {
      setProblem(walletErrorText(err));
    } finally {
      setSending(false);
    }
  }

  if (opened)
    return (
      <div className="tryit" data-testid="tryit-job">
        <p>
          Job #{opened.jobId} opened in transaction <code>{short(opened.txHash)}</code>. <Link to={`/jobs/${opened.jobId}`}>Its page</Link>{" "}
          has the same live view.
        </p>
        <JobLive jobId={opened.jobId} fresh />
        <button type="button" onClick={() => setOpened(undefined)}>
          Request another inference
        </button>
      </div>
    );

  const wrongChain = wallet.kind === "connected" && status.data && wallet.chainId !== status.data.chainId;
  return (
    <form className="tryit" onSubmit={submit} aria-describedby={`${uid}-help`}>
      <p id={`${uid}-help`} className="muted">
        Enter the raw features (before standardization{card.input.preprocess ? "; the card's mean and std are applied for you" : ""}), or
        pick a sample. The input is quantized with the card ({card.input.bits}-bit, {card.input.frac} fractional bits) in your browser
        {card.input.mode === "committed"
          ? " and committed on chain; its opening is published with the job for provers"
          : " and sent in the clear"}
        .
      </p>
      {samples.length > 0 && (
        <div className="field">
          <label htmlFor={`${uid}-sample`}>Sample</label>
          <select id={`${uid}-sample`} defaultValue="" onChange={(e) => pickSample(Number(e.target.value))}>
            <option value="" disabled>
              Pick a sample…
            </option>
            {samples.map((s, i) => (
              <option key={i} value={i}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
      )}
      {fields ? (
        <fieldset className="inputs">
          <legend>Input ({size} values)</legend>
          {values.map((v, i) => (
            <div className="field" key={i}>
              <label htmlFor={`${uid}-x${i}`}>{inputLabel(extras, i)}</label>
              <input
                id={`${uid}-x${i}`}
                inputMode="decimal"
                value={v}
                required
                onChange={(e) => setValues(values.map((old, k) => (k === i ? e.target.value : old)))}
              />
            </div>
          ))}
        </fieldset>
      ) : (
        <div className="field">
          <label htmlFor={`${uid}-xs`}>Input: {size} values separated by commas or spaces</label>
          <textarea id={`${uid}-xs`} rows={4} value={values[0]} required onChange={(e) => setValues([e.target.value])} />
        </div>
      )}
      <div className="field">
        <label htmlFor={`${uid}-fee`}>Fee (ETH, escrowed for the prover)</label>
        <input id={`${uid}-fee`} inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} />
      </div>
      <div className="wallet" data-testid="wallet">
        {wallet.kind === "missing" && (
          <p role="alert">
            No wallet found in this browser. Install an EIP-1193 wallet extension (one that provides <code>window.ethereum</code>), then
            reload this page.
          </p>
        )}
        {(wallet.kind === "disconnected" || wallet.kind === "error") && (
          <>
            {wallet.kind === "error" && <p role="alert">{wallet.message}</p>}
            <button type="button" onClick={() => void connect()}>
              Connect wallet
            </button>
          </>
        )}
        {wallet.kind === "connecting" && <p role="status">Waiting for your wallet…</p>}
        {wallet.kind === "connected" && (
          <p>
            Connected as <code>{short(wallet.address)}</code> on chain {wallet.chainId}.
          </p>
        )}
        {status.isPending && <Loading what="the network's addresses" />}
        {status.error && <ErrorState error={status.error} what="the network's addresses" onRetry={() => void status.refetch()} />}
        {wrongChain && (
          <div role="alert" className="state error">
            <p>
              Your wallet is on chain {wallet.chainId}; this network is chain {status.data.chainId}. Switch the wallet to chain{" "}
              {status.data.chainId} to open a job.
            </p>
            <button type="button" onClick={() => void switchChain(status.data.chainId)}>
              Switch to chain {status.data.chainId}
            </button>
          </div>
        )}
      </div>
      {problem && (
        <p role="alert" className="problem">
          {problem}
        </p>
      )}
      <button type="submit" className="primary" disabled={wallet.kind !== "connected" || !!wrongChain || sending || !status.data}>
        {sending ? "Confirm in your wallet…" : "Request inference"}
      </button>
    </form>
  );
}
