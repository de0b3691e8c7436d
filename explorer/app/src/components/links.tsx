/** Links to the app's pages, so every page names ids and addresses the same way. */
import { Link } from "react-router";
import { short } from "../format";

export const JobLink = ({ id }: { id: string }) => <Link to={`/jobs/${id}`}>#{id}</Link>;

export const ModelLink = ({ id, name }: { id: string; name?: string }) => <Link to={`/models/${id}`}>{name ?? `model ${id}`}</Link>;

export function ProverLink({ address }: { address: string | null }) {
  if (!address) return <span aria-label="none">–</span>;
  return (
    <Link to={`/provers/${address}`} title={address}>
      {short(address)}
    </Link>
  );
}

export function Hash({ value }: { value: string | null | undefined }) {
  return (
    <code className="hash" title={value ?? undefined}>
      {short(value)}
    </code>
  );
}
