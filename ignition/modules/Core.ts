/**
 * Hardhat Ignition module: the ERC-7992 ModelRegistry and the InferenceJobs market on top of it.
 * Parameters (all optional; defaults = DEFAULT_MARKET in scripts/chain/system.ts, docs/market-rules.md):
 * claimBond (wei), leaseDuration (s), slashBps, callbackGasLimit.
 * Normally run through `npx hardhat deploy`, which also writes deployments/<network>.json.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export const CORE_MODULE_ID = "ZkmlCore";

export default buildModule(CORE_MODULE_ID, (m) => {
  const registry = m.contract("ModelRegistry");
  const jobs = m.contract("InferenceJobs", [
    registry,
    m.getParameter("claimBond", 10n ** 16n),
    m.getParameter("leaseDuration", 600),
    m.getParameter("slashBps", 5000),
    m.getParameter("callbackGasLimit", 200_000),
  ]);
  return { registry, jobs };
});
