/**
 * Hardhat Ignition module: the verifier-adapter factory, the ERC-7992 ModelRegistry (which accepts only the
 * factory's adapters), the OptimisticResults library, the InferenceJobs market linked to it on top of the registry,
 * and InferenceSubscriptions beside the market.
 * Parameters (all optional; defaults = DEFAULT_MARKET in scripts/chain/system.ts, docs/market-rules.md):
 * claimBond (wei), leaseDuration (s), slashBps, callbackGasLimit, openWindow (s), deliveryWindow (s),
 * challengeBond (wei), challengeWindow (s), proofWindow (s).
 * Normally run through `npx hardhat deploy`, which also writes deployments/<network>.json.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export const CORE_MODULE_ID = "ZkmlCore";

const CoreModule = buildModule(CORE_MODULE_ID, (m) => {
  const factory = m.contract("VerifierAdapterFactory");
  const registry = m.contract("ModelRegistry", [factory]);
  // the market's optimistic rules, run by DELEGATECALL (docs/design-decisions.md, "Optimistic results")
  const optimistic = m.library("OptimisticResults");
  const jobs = m.contract(
    "InferenceJobs",
    [
      registry,
      m.getParameter("claimBond", 10n ** 16n),
      m.getParameter("leaseDuration", 600),
      m.getParameter("slashBps", 5000),
      m.getParameter("callbackGasLimit", 200_000),
      m.getParameter("openWindow", 300),
      m.getParameter("deliveryWindow", 120),
      m.getParameter("challengeBond", 10n ** 16n),
      m.getParameter("challengeWindow", 600),
      m.getParameter("proofWindow", 600),
    ],
    { libraries: { OptimisticResults: optimistic } },
  );
  const subscriptions = m.contract("InferenceSubscriptions", [jobs]);
  return { factory, registry, optimistic, jobs, subscriptions };
});

export default CoreModule;
