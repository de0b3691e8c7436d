/** The local `hardhat node` child process of the prover and operator tests (scripts/chain/local-node.ts). */
export { type LocalNode, freePort, startHardhatNode } from "../../scripts/chain/local-node";
