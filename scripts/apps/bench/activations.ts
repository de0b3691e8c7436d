/**
 * Activation benchmark: for every supported activation at every width the quantizer picks (8, 10, 12, 16 bits), the
 * piecewise polynomial the fitter chooses (segments, degree), its constraints per activation and its worst error
 * against the float function over every input of the range [-8, 8) (docs/circuits.md, "Activations").
 * Run: npm run bench:activations [-- --json]
 */
import { activationCostMarkdown, activationCostTable } from "../../engine/activation-fit";
import { describeActivation } from "../../formats/activations";
import { commandLine } from "../../util/args";
import { runMain } from "../main";

const USAGE = "usage: npm run bench:activations [-- --json]";

runMain(async () => {
  const { values } = commandLine(process.argv.slice(2), { json: { type: "boolean" } }, USAGE);
  const t0 = Date.now();
  const rows = activationCostTable();
  if (values.json)
    console.log(
      JSON.stringify(
        rows.map((r) => ({
          activation: describeActivation(r.spec),
          bits: r.bits,
          inFrac: r.inFrac,
          outFrac: r.outFrac,
          segments: 2 ** r.fit.poly.segmentBits,
          degree: r.fit.poly.degree,
          shift: r.fit.poly.shift,
          constraints: r.fit.constraints,
          maxError: r.fit.maxError,
        })),
        null,
        1,
      ),
    );
  else {
    console.log("activations: input range [-8, 8), output as wide as the input (docs/circuits.md, Activations)\n");
    console.log(activationCostMarkdown(rows));
    console.log(`\nfitted and measured on every input in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
});
