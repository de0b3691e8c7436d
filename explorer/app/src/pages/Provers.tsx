/** Provers: jobs served, failures, latency, earnings and the bond locked in claims. */
import { useQuery } from "@tanstack/react-query";
import { api } from "../api";
import { amount, ago, duration } from "../format";
import { ProverLink } from "../components/links";
import { Empty, ErrorState, Loading } from "../components/states";

export default function Provers() {
  const q = useQuery({ queryKey: ["provers"], queryFn: api.provers, refetchInterval: 5_000 });
  return (
    <>
      <h1>Provers</h1>
      <p className="lead">Every account that claimed a job, with what it served and earned.</p>
      {q.isPending ? (
        <Loading what="provers" />
      ) : q.error ? (
        <ErrorState error={q.error} what="provers" onRetry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty title="No prover has claimed a job yet">
          Start one with <code>npm run prover</code> (docs/operators.md); it appears here after its first claim.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Provers</caption>
            <thead>
              <tr>
                <th scope="col">Prover</th>
                <th scope="col">Served</th>
                <th scope="col">Failures</th>
                <th scope="col">Median latency</th>
                <th scope="col">Earnings</th>
                <th scope="col" className="wide">
                  Bond locked
                </th>
                <th scope="col" className="wide">
                  Last active
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((p) => (
                <tr key={p.address}>
                  <td>
                    <ProverLink address={p.address} />
                  </td>
                  <td>{p.served}</td>
                  <td>{p.failures}</td>
                  <td>{duration(p.p50LatencyS)}</td>
                  <td>{amount(p.earningsWei)}</td>
                  <td className="wide">{amount(p.bondLockedWei)}</td>
                  <td className="wide">{ago(p.lastActiveAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
