/** Loading, error and empty states: each says what is happening and what to do. */
import type { ReactNode } from "react";
import { Link } from "react-router";
import { ApiError } from "../api";

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorState({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what: string }) {
  const e = error instanceof ApiError ? error : undefined;
  let title: string;
  let help: ReactNode;
  if (e?.kind === "unreachable") {
    title = "The indexer is not reachable";
    help = (
      <>
        The app reads {what} from the indexer behind <code>/api</code>. Start it with <code>npm run explorer</code> (or point{" "}
        <code>EXPLORER_API_URL</code> at a running one), then try again.
      </>
    );
  } else if (e?.kind === "not-found") {
    title = `No such ${what}`;
    help = (
      <>
        {e.message} Check the address, or find it from the <Link to="/">models</Link> or <Link to="/jobs">jobs</Link> lists. A transaction
        sent seconds ago appears once the indexer has seen its block.
      </>
    );
  } else {
    title = `Could not load ${what}`;
    help = <>{error instanceof Error ? error.message : String(error)}</>;
  }
  return (
    <div className="state error" role="alert">
      <h2>{title}</h2>
      <p>{help}</p>
      {onRetry && e?.kind !== "not-found" && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="state empty">
      <h2>{title}</h2>
      <p>{children}</p>
    </div>
  );
}
