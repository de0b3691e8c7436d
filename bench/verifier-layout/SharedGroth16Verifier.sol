// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The measured alternative to the generated per-model verifiers (docs/design-decisions.md, "Verifier layout"): one
// Groth16 verifier shared by every model, each model's verifying key stored as data in its own contract, and a
// per-model forwarder that pins the key. Compiled and measured by scripts/apps/bench/verifier-layout.ts
// (`npm run bench:verifier-layout`); NOT part of the deployed system.
//
// Key data contract: runtime code = 0x00 (STOP, so it cannot be called) ++ 32-byte words
//   [verifyProof selector (right-aligned), N, alphax, alphay, betax1, betax2, betay1, betay2, gammax1, gammax2,
//    gammay1, gammay2, deltax1, deltax2, deltay1, deltay2, IC0x, IC0y, ..., ICNx, ICNy]
// in the order snarkjs' Solidity template names them, which is also the order of the batch transcript.

/// @notice One Groth16 verifier for every key. The caller appends the key data contract's address as one 32-byte
/// word after the ABI call data of `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])` or
/// `verifyBatch(uint256[],uint256[])` (the forwarder below does that). Returns false on any malformed input; the
/// batch check is the one of scripts/engine/setup/groth16-batch.ts (same transcript, same challenges).
contract SharedGroth16Verifier {
    uint256 constant r = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 constant q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    bytes32 constant BATCH_DOMAIN = keccak256("zkml-evm/groth16-batch/v1");

    fallback() external {
        bytes32 domain = BATCH_DOMAIN;
        uint256 batchSelector = 0x11aa3f22; // bytes4(keccak256("verifyBatch(uint256[],uint256[])"))
        assembly {
            function fail() {
                mstore(0, 0)
                return(0, 0x20)
            }
            function ecMul(out, x, y, s, scratch) {
                mstore(scratch, x)
                mstore(add(scratch, 32), y)
                mstore(add(scratch, 64), s)
                if iszero(staticcall(gas(), 7, scratch, 96, out, 64)) { fail() }
            }
            function ecAddC(acc, x, y, scratch) {
                mstore(scratch, x)
                mstore(add(scratch, 32), y)
                mstore(add(scratch, 64), mload(acc))
                mstore(add(scratch, 96), mload(add(acc, 32)))
                if iszero(staticcall(gas(), 6, scratch, 128, acc, 64)) { fail() }
            }
            function ecMulAcc(acc, x, y, s, scratch) {
                ecMul(scratch, x, y, s, scratch)
                mstore(add(scratch, 64), mload(acc))
                mstore(add(scratch, 96), mload(add(acc, 32)))
                if iszero(staticcall(gas(), 6, scratch, 128, acc, 64)) { fail() }
            }

            if lt(calldatasize(), 68) { fail() }
            let end := sub(calldatasize(), 32)
            let key := calldataload(end)
            if shr(160, key) { fail() }
            let keyLen := extcodesize(key)
            if lt(keyLen, 97) { fail() }
            let pKey := mload(0x40)
            extcodecopy(key, pKey, 1, sub(keyLen, 1))
            let N := mload(add(pKey, 32))
            let vkWords := add(14, mul(2, add(N, 1)))
            if iszero(eq(keyLen, add(1, mul(32, add(2, vkWords))))) { fail() }
            let pVk := add(pKey, 64)
            let pMem := add(pVk, mul(32, vkWords))

            // where the proofs (8 words each) and signals (N words each) are in the call data
            let proofsOff
            let n
            let sigOff
            switch eq(shr(224, calldataload(0)), batchSelector)
            case 1 {
                let pl := add(4, calldataload(4))
                let sl := add(4, calldataload(36))
                if or(gt(add(pl, 32), end), gt(add(sl, 32), end)) { fail() }
                let pLen := calldataload(pl)
                let sLen := calldataload(sl)
                proofsOff := add(pl, 32)
                sigOff := add(sl, 32)
                if or(gt(pLen, 0xffffffff), gt(sLen, 0xffffffff)) { fail() }
                if or(gt(add(proofsOff, mul(pLen, 32)), end), gt(add(sigOff, mul(sLen, 32)), end)) { fail() }
                n := div(pLen, 8)
                if or(iszero(n), iszero(eq(mul(n, 8), pLen))) { fail() }
                if iszero(eq(sLen, mul(n, N))) { fail() }
            }
            default {
                if iszero(eq(shr(224, calldataload(0)), mload(pKey))) { fail() }
                if iszero(eq(end, add(4, mul(32, add(8, N))))) { fail() }
                proofsOff := 4
                n := 1
                sigOff := 260
            }
            let nSig := mul(n, N)
            for { let k := 0 } lt(k, nSig) { k := add(k, 1) } {
                if iszero(lt(calldataload(add(sigOff, mul(k, 32))), r)) { fail() }
            }

            // Fiat-Shamir seed (batches of two or more; a single proof takes r_0 = 1 alone)
            let seed
            if gt(n, 1) {
                mstore(pMem, domain)
                mcopy(add(pMem, 32), pVk, mul(32, vkWords))
                let pN := add(pMem, mul(32, add(vkWords, 1)))
                mstore(pN, n)
                calldatacopy(add(pN, 32), proofsOff, mul(n, 256))
                calldatacopy(add(pN, add(32, mul(n, 256))), sigOff, mul(nSig, 32))
                seed := keccak256(pMem, add(mul(32, add(vkWords, 2)), mul(add(mul(n, 8), nSig), 32)))
            }

            let pPair := pMem
            let pAccC := add(pPair, mul(add(n, 3), 192))
            mstore(pAccC, 0)
            mstore(add(pAccC, 32), 0)
            let pSums := add(pAccC, 64)
            for { let j := 0 } lt(j, add(N, 1)) { j := add(j, 1) } { mstore(add(pSums, mul(j, 32)), 0) }
            let pScratch := add(pSums, mul(32, add(N, 1)))

            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let ri := 1
                if i {
                    mstore(0, seed)
                    mstore(32, i)
                    ri := mod(keccak256(0, 64), r)
                }
                let po := add(proofsOff, mul(i, 256))
                let slot := add(pPair, mul(i, 192))
                switch eq(ri, 1)
                case 1 {
                    mstore(slot, calldataload(po))
                    mstore(add(slot, 32), calldataload(add(po, 32)))
                }
                default { ecMul(slot, calldataload(po), calldataload(add(po, 32)), ri, pScratch) }
                mstore(add(slot, 32), mod(sub(q, mload(add(slot, 32))), q))
                calldatacopy(add(slot, 64), add(po, 64), 128)
                switch eq(ri, 1)
                case 1 { ecAddC(pAccC, calldataload(add(po, 192)), calldataload(add(po, 224)), pScratch) }
                default { ecMulAcc(pAccC, calldataload(add(po, 192)), calldataload(add(po, 224)), ri, pScratch) }
                mstore(pSums, addmod(mload(pSums), ri, r))
                let ps := add(sigOff, mul(i, mul(32, N)))
                for { let j := 0 } lt(j, N) { j := add(j, 1) } {
                    let pt := add(pSums, mul(32, add(j, 1)))
                    mstore(pt, addmod(mload(pt), mulmod(ri, calldataload(add(ps, mul(32, j))), r), r))
                }
            }

            let tail := add(pPair, mul(n, 192))
            let R := mload(pSums)
            // (R * alpha, beta); R = 1 for a single proof
            switch eq(R, 1)
            case 1 {
                mstore(tail, mload(pVk))
                mstore(add(tail, 32), mload(add(pVk, 32)))
            }
            default { ecMul(tail, mload(pVk), mload(add(pVk, 32)), R, pScratch) }
            mcopy(add(tail, 64), add(pVk, 64), 128)
            // (R * IC0 + sum_j t_j * IC_j, gamma)
            let pL := add(tail, 192)
            let pIC := add(pVk, 448)
            switch eq(R, 1)
            case 1 {
                mstore(pL, mload(pIC))
                mstore(add(pL, 32), mload(add(pIC, 32)))
            }
            default { ecMul(pL, mload(pIC), mload(add(pIC, 32)), R, pScratch) }
            for { let j := 1 } lt(j, add(N, 1)) { j := add(j, 1) } {
                let pj := add(pIC, mul(64, j))
                ecMulAcc(pL, mload(pj), mload(add(pj, 32)), mload(add(pSums, mul(32, j))), pScratch)
            }
            mcopy(add(pL, 64), add(pVk, 192), 128)
            // (sum r_i * C_i, delta)
            let pC := add(tail, 384)
            mstore(pC, mload(pAccC))
            mstore(add(pC, 32), mload(add(pAccC, 32)))
            mcopy(add(pC, 64), add(pVk, 320), 128)

            let success := staticcall(gas(), 8, pPair, mul(add(n, 3), 192), 0, 0x20)
            mstore(0, and(success, mload(0)))
            return(0, 0x20)
        }
    }
}

/// @notice A model's verifier in the shared layout: forwards every call to the shared verifier with its key data
/// contract appended. Its code hash covers both addresses (immutables), so a registry that pins the verifier's code
/// hash pins the key.
contract KeyedGroth16Verifier {
    address public immutable shared;
    address public immutable key;

    constructor(address shared_, address key_) {
        shared = shared_;
        key = key_;
    }

    fallback() external {
        address s = shared;
        address k = key;
        assembly {
            let p := mload(0x40)
            calldatacopy(p, 0, calldatasize())
            mstore(add(p, calldatasize()), k)
            let ok := staticcall(gas(), s, p, add(calldatasize(), 32), 0, 0)
            returndatacopy(p, 0, returndatasize())
            if iszero(ok) { revert(p, returndatasize()) }
            return(p, returndatasize())
        }
    }
}
