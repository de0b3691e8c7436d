import { modelCard } from "./pipelines/bundle-sources";
import { parseModelCard } from "./formats/bundle";
(async () => {
  for (const n of ["iris-mlp", "temp-forecast", "rain-risk", "weather-cnn"]) {
    const c = parseModelCard(JSON.parse(JSON.stringify(await modelCard(n, "MIT"))));
    console.log(n, c.description, c.features?.names.slice(0, 3), c.features?.unit, c.outputUnit, JSON.stringify(c.samples).slice(0, 200));
  }
})();
