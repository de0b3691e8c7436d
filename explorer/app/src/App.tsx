/** The shell (header, navigation, footer with the indexer's position) and the routes. */
import { lazy, Suspense } from "react";
import { useQuery } from "@tanstack/react-query";
import { NavLink, Route, Routes } from "react-router";
import { api } from "./api";
import { ago } from "./format";
import { Empty, Loading } from "./components/states";
import Models from "./pages/Models";
import Model from "./pages/Model";
import Jobs from "./pages/Jobs";
import Job from "./pages/Job";
import Provers from "./pages/Provers";
import Prover from "./pages/Prover";
import { Subscription, Subscriptions } from "./pages/Subscriptions";

const Network = lazy(() => import("./pages/Network"));

function IndexerStatus() {
  const q = useQuery({ queryKey: ["status"], queryFn: api.status, refetchInterval: 5_000, retry: false });
  if (q.error) return <span className="warn">Indexer unreachable</span>;
  if (!q.data) return <span>Connecting to the indexer…</span>;
  return (
    <span>
      Chain {q.data.chainId} · indexed block {q.data.indexedBlock} ({ago(q.data.indexedTimestamp)})
    </span>
  );
}

const NAV = [
  ["/", "Models"],
  ["/jobs", "Jobs"],
  ["/subscriptions", "Subscriptions"],
  ["/provers", "Provers"],
  ["/network", "Network"],
] as const;

export function App() {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header>
        <p className="brand">zkml explorer</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to} end={to === "/"}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="the page" />}>
          <Routes>
            <Route path="/" element={<Models />} />
            <Route path="/models/:id" element={<Model />} />
            <Route path="/jobs" element={<Jobs />} />
            <Route path="/jobs/:id" element={<Job />} />
            <Route path="/subscriptions" element={<Subscriptions />} />
            <Route path="/subscriptions/:id" element={<Subscription />} />
            <Route path="/provers" element={<Provers />} />
            <Route path="/provers/:address" element={<Prover />} />
            <Route path="/network" element={<Network />} />
            <Route
              path="*"
              element={
                <>
                  <h1>Page not found</h1>
                  <Empty title="Nothing here">Use the navigation above to find models, jobs and provers.</Empty>
                </>
              }
            />
          </Routes>
        </Suspense>
      </main>
      <footer>
        <IndexerStatus />
      </footer>
    </>
  );
}
