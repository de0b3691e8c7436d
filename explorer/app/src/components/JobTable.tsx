/** A table of job summaries (models, provers, the jobs list). */
import type { JobSummary } from "../api";
import { amount, duration, ago } from "../format";
import { JobLink, ModelLink, ProverLink } from "./links";

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function JobTable({ jobs, caption, showModel = true }: { jobs: JobSummary[]; caption: string; showModel?: boolean }) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            {showModel && <th scope="col">Model</th>}
            <th scope="col">Status</th>
            <th scope="col">Fee</th>
            <th scope="col" className="wide">
              Prover
            </th>
            <th scope="col">Latency</th>
            <th scope="col" className="wide">
              Opened
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.jobId}>
              <td>
                <JobLink id={j.jobId} />
              </td>
              {showModel && (
                <td>
                  <ModelLink id={j.modelId} name={`${j.modelId} v${j.version}`} />
                </td>
              )}
              <td>
                <StatusBadge status={j.status} />
              </td>
              <td>{amount(j.feeWei, j.feeToken)}</td>
              <td className="wide">
                <ProverLink address={j.prover} />
              </td>
              <td>{duration(j.latencyS)}</td>
              <td className="wide">{ago(j.openedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
