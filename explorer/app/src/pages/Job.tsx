/** A job's page: its live timeline and decoded result. */
import { useParams } from "react-router";
import { JobLive } from "../components/JobLive";

export default function Job() {
  const { id = "" } = useParams();
  return (
    <>
      <h1>Job #{id}</h1>
      {/^\d+$/.test(id) ? <JobLive jobId={id} /> : <p role="alert">“{id}” is not a job id: job ids are whole numbers.</p>}
    </>
  );
}
