/** A model card (scripts/formats/bundle.ts) for people: task, layout and units, quantization, accuracy, constraints. */
import type { ModelCard } from "../sdk";
import { type CardExtras, inputLabel } from "../card";
import { duration, percent } from "../format";

export function CardView({ card, extras, proveP50S }: { card: ModelCard; extras: CardExtras; proveP50S: number | null }) {
  const inp = card.input;
  const out = card.output;
  const acc = card.accuracy;
  const isRate = acc && /accuracy/.test(acc.metric);
  const fmt = (v: number) => (isRate ? percent(v) : v.toPrecision(4));
  return (
    <section aria-labelledby="card-h" className="card" data-testid="card">
      <h2 id="card-h">Model card</h2>
      <dl className="facts">
        <dt>Task</dt>
        <dd>{card.task}</dd>
        {extras.architecture && (
          <>
            <dt>Architecture</dt>
            <dd>{extras.architecture}</dd>
          </>
        )}
        <dt>Input</dt>
        <dd>
          {inp.size} values{inp.shape ? ` (shape ${inp.shape.join(" × ")})` : ""},{" "}
          {inp.mode === "committed" ? "committed (private to the prover, Poseidon commitment on chain)" : "public (on chain)"}
        </dd>
        <dt>Quantization</dt>
        <dd>
          inputs {inp.bits}-bit fixed point with {inp.frac} fractional bits (<code>round(v × 2^{inp.frac})</code>)
          {inp.preprocess ? ", after standardizing each raw feature as (raw − mean) / std" : ""}
        </dd>
        <dt>Output</dt>
        <dd>
          {out.head === "argmax" ? (
            <>
              argmax over {out.count} classes: {card.outputs.join(", ")}
            </>
          ) : (
            <>
              {out.count} value{out.count > 1 ? "s" : ""} (
              {card.outputs.map((o, i) => (extras.outputUnits?.[i] ? `${o} in ${extras.outputUnits[i]}` : o)).join(", ")}), {out.bits}-bit
              with {out.frac} fractional bits
            </>
          )}
        </dd>
        <dt>Agreement with the float model</dt>
        <dd>
          {acc ? (
            <>
              {acc.metric} on {acc.dataset} ({acc.samples} samples): float {fmt(acc.float)}, quantized (what the circuit computes){" "}
              {fmt(acc.quantized)}
            </>
          ) : (
            "not measured at build time (npm run evaluate measures it on the owner's data)"
          )}
        </dd>
        <dt>Circuit</dt>
        <dd>{card.constraints.toLocaleString("en-US")} constraints</dd>
        <dt>Proving time</dt>
        <dd>{proveP50S === null ? "no proven job yet" : `${duration(proveP50S)} median from claim to proof on chain (real jobs)`}</dd>
        <dt>Trusted setup</dt>
        <dd className={/INSECURE|DEV/i.test(card.trustedSetup) ? "warn" : undefined}>{card.trustedSetup}</dd>
        <dt>Weights, license</dt>
        <dd>
          {card.weights}, {card.license}
        </dd>
      </dl>
      {inp.preprocess && inp.size <= 16 && (
        <div className="table-wrap">
          <table>
            <caption>Input features and their standardization</caption>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Mean</th>
                <th scope="col">Std</th>
              </tr>
            </thead>
            <tbody>
              {inp.preprocess.mean.map((m, i) => (
                <tr key={i}>
                  <td>{inputLabel(extras, i)}</td>
                  <td>{m.toPrecision(4)}</td>
                  <td>{inp.preprocess!.std[i]?.toPrecision(4)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
