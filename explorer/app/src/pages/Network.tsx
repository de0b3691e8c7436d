/** Network charts (recharts): jobs per minute, latency percentiles, gas per result single vs batched. */
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "../api";
import { clock, duration, gas } from "../format";
import { Empty, ErrorState, Loading } from "../components/states";

const COLORS = { a: "#1f5fbf", b: "#b3470f" };
const WINDOWS = [15, 60, 360, 1440];

export default function Network() {
  const [minutes, setMinutes] = useState(60);
  const q = useQuery({ queryKey: ["network", minutes], queryFn: () => api.network(minutes), refetchInterval: 5_000 });
  return (
    <>
      <h1>Network</h1>
      <div className="field inline">
        <label htmlFor="window">Window</label>
        <select id="window" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
          {WINDOWS.map((m) => (
            <option key={m} value={m}>
              last {m >= 60 ? `${m / 60} h` : `${m} min`}
            </option>
          ))}
        </select>
      </div>
      {q.isPending ? (
        <Loading what="network statistics" />
      ) : q.error ? (
        <ErrorState error={q.error} what="network statistics" onRetry={() => void q.refetch()} />
      ) : (
        <>
          <dl className="inline-facts stats">
            <div>
              <dt>Models</dt>
              <dd>{q.data.totals.models}</dd>
            </div>
            <div>
              <dt>Jobs</dt>
              <dd>{q.data.totals.jobs}</dd>
            </div>
            <div>
              <dt>Fulfilled</dt>
              <dd>{q.data.totals.fulfilled}</dd>
            </div>
            <div>
              <dt>Provers</dt>
              <dd>{q.data.totals.provers}</dd>
            </div>
          </dl>
          {q.data.jobsPerMinute.length === 0 ? (
            <Empty title="No job in this window">Pick a longer window above, or open a job from a model's page.</Empty>
          ) : (
            <>
              <figure className="chart">
                <figcaption>Jobs per minute (opened and fulfilled)</figcaption>
                <ResponsiveContainer width="100%" height={240}>
                  <BarChart data={q.data.jobsPerMinute} margin={{ left: -20, right: 8 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="minute" tickFormatter={clock} minTickGap={24} />
                    <YAxis allowDecimals={false} />
                    <Tooltip labelFormatter={(t) => clock(Number(t))} />
                    <Legend />
                    <Bar dataKey="opened" name="opened" fill={COLORS.a} />
                    <Bar dataKey="fulfilled" name="fulfilled" fill={COLORS.b} />
                  </BarChart>
                </ResponsiveContainer>
              </figure>
              <figure className="chart">
                <figcaption>Latency from open to result, seconds (p50 and p95 per minute)</figcaption>
                <ResponsiveContainer width="100%" height={240}>
                  <LineChart data={q.data.latency} margin={{ left: -20, right: 8 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="minute" tickFormatter={clock} minTickGap={24} />
                    <YAxis />
                    <Tooltip labelFormatter={(t) => clock(Number(t))} formatter={(v) => duration(Number(v))} />
                    <Legend />
                    <Line type="monotone" dataKey="p50" name="p50" stroke={COLORS.a} dot={false} connectNulls />
                    <Line type="monotone" dataKey="p95" name="p95" stroke={COLORS.b} dot={false} connectNulls strokeDasharray="5 3" />
                  </LineChart>
                </ResponsiveContainer>
              </figure>
            </>
          )}
          <figure className="chart">
            <figcaption>
              Gas per result: single {gas(q.data.gas.single.p50)} (n = {q.data.gas.single.n}), batched {gas(q.data.gas.batched.p50)} (n ={" "}
              {q.data.gas.batched.n}), medians
            </figcaption>
            <ResponsiveContainer width="100%" height={180}>
              <BarChart
                layout="vertical"
                data={[
                  { kind: "single", gas: q.data.gas.single.p50 ?? 0 },
                  { kind: "batched", gas: q.data.gas.batched.p50 ?? 0 },
                ]}
                margin={{ left: 8, right: 16 }}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" tickFormatter={(g: number) => `${Math.round(g / 1000)}k`} />
                <YAxis type="category" dataKey="kind" width={70} />
                <Tooltip formatter={(v) => gas(Number(v))} />
                <Bar dataKey="gas" name="gas per result" fill={COLORS.a} />
              </BarChart>
            </ResponsiveContainer>
          </figure>
        </>
      )}
    </>
  );
}
