/**
 * A payment in an ERC-20 token, checked before any transaction (docs/market-rules.md, "Payment tokens"): the SDK's
 * token jobs (./client.ts), its token subscriptions' top-ups (./subscriptions-client.ts) and the operator tasks
 * (`job:open --fee-token`, `subscription:top-up`) all check the token, the payer's balance and the spender's
 * allowance here, and approve the same way. Each caller names the token and the amount in the errors as its user
 * knows them (an SDK field, a task's flag). No Node module: it runs in browsers with the SDK.
 */
import { Contract, type Signer, type TransactionReceipt, ZeroAddress, getAddress, isAddress } from "ethers";

/** The ERC-20 calls made for a payment (the metadata ones are optional in the standard: callers tolerate their absence). */
export const ERC20_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function allowance(address, address) view returns (uint256)",
  "function approve(address, uint256) returns (bool)",
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
];

/** A payment that cannot be made as asked; the message names the token or the amount as the caller's user knows them. */
export class TokenPaymentError extends Error {
  override name = "TokenPaymentError";
}

/** How the errors name things: e.g. the SDK's `feeToken` / `fee`, or a task's `--fee-token` / `--fee`. */
export interface PaymentNames {
  /** The token argument. */
  token: string;
  /** The amount argument. */
  amount: string;
  /** What the amount is, in a sentence ("fee", "escrow"). */
  amountWord: string;
  /** The spender, in a sentence ("market", "subscriptions contract"). */
  spender: string;
  /** How to let the payment approve when it may not ("pass approve: true", "drop --no-approve"). */
  approveFix: string;
}

export interface TokenPayment {
  /** The token, checksummed. */
  address: string;
  balance: bigint;
  allowance: bigint;
  /**
   * The approvals `approveIfShort` sends, as calls (for a simulation of the whole payment before anything is signed):
   * none when the allowance covers the amount; else `approve(spender, amount)`, through 0 first when an allowance is
   * already set (USDT refuses to change a non-zero allowance).
   */
  approvals: { to: string; data: string }[];
  /** Sends those approvals, one after the other; returns their receipts. */
  approveIfShort(): Promise<TransactionReceipt[]>;
}

/**
 * Checks that `signer` can pay `amount` of `token` to `spender`: an address with code that answers `balanceOf` and
 * `allowance`, a balance that covers the amount, and an allowance that does too unless `approve`.
 * @param format Renders an amount in the errors (default: the token's units as a decimal integer).
 * @throws TokenPaymentError naming `names.token` or `names.amount`, with the fix; nothing is sent.
 */
export async function checkTokenPayment(
  signer: Signer,
  token: string,
  spender: string,
  amount: bigint,
  opts: { approve: boolean; names: PaymentNames; format?: (units: bigint) => string },
): Promise<TokenPayment> {
  const { names } = opts;
  const fmt = opts.format ?? ((u: bigint) => u.toString());
  if (!isAddress(token)) throw new TokenPaymentError(`${names.token} ${token}: not an address; give the ERC-20 token's 0x address`);
  const address = getAddress(token);
  const provider = signer.provider;
  if (!provider) throw new TokenPaymentError("the signer has no provider: connect it to one");
  if ((await provider.getCode(address)) === "0x")
    throw new TokenPaymentError(`${names.token} ${address}: no contract at this address on this chain; give the ERC-20 token's address`);
  const owner = await signer.getAddress();
  const erc20 = new Contract(address, ERC20_ABI, signer);
  const read = async (what: string, p: Promise<unknown>): Promise<bigint> => {
    try {
      return BigInt((await p) as bigint);
    } catch {
      throw new TokenPaymentError(`${names.token} ${address}: ${what} failed; is it an ERC-20 token?`);
    }
  };
  const balance = await read("balanceOf", erc20.balanceOf(owner));
  if (balance < amount)
    throw new TokenPaymentError(
      `${names.token} ${address}: balance of ${owner} is ${fmt(balance)}, below the ${names.amountWord} ${fmt(amount)}; fund the account or lower ${names.amount}`,
    );
  const allowance = await read("allowance", erc20.allowance(owner, spender));
  if (allowance < amount && !opts.approve)
    throw new TokenPaymentError(
      `${names.token} ${address}: allowance of ${names.spender} ${spender} is ${fmt(allowance)}, below the ${names.amountWord} ${fmt(amount)}; approve the ${names.spender} for the ${names.amountWord} or ${names.approveFix}`,
    );
  const approve = (v: bigint) => ({ to: address, data: erc20.interface.encodeFunctionData("approve", [spender, v]) });
  const approvals = allowance >= amount ? [] : allowance === 0n ? [approve(amount)] : [approve(0n), approve(amount)];
  return {
    address,
    balance,
    allowance,
    approvals,
    approveIfShort: async () => {
      const receipts: TransactionReceipt[] = [];
      for (const a of approvals) {
        const r = await (await signer.sendTransaction(a)).wait();
        if (!r || r.status !== 1) throw new TokenPaymentError(`${names.token} ${address}: approve failed (transaction ${r?.hash})`);
        receipts.push(r);
      }
      return receipts;
    },
  };
}

/**
 * Whether `token` answers `balanceOf` (`erc20`), and its `symbol()` and `decimals()`, each undefined when the token
 * does not answer it (both are optional in ERC-20).
 */
export async function tokenMetadata(
  signerOrProvider: Signer | NonNullable<Signer["provider"]>,
  token: string,
): Promise<{ erc20: boolean; symbol?: string; decimals?: number }> {
  const c = new Contract(getAddress(token), ERC20_ABI, signerOrProvider);
  const erc20 = await (c.balanceOf(ZeroAddress) as Promise<bigint>).then(() => true).catch(() => false);
  const symbol = await (c.symbol() as Promise<string>).catch(() => undefined);
  const decimals = await (c.decimals() as Promise<bigint>).then(Number).catch(() => undefined);
  return { erc20, symbol, decimals };
}
