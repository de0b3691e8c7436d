/**
 * The wallet: an EIP-1193 provider (`window.ethereum`) wrapped in ethers' `BrowserProvider`. Ethers rather than
 * wagmi/viem because the SDK (scripts/chain/sdk.ts) is ethers-based: its `InferenceClient` takes an ethers signer,
 * so one library serves both (explorer/app/README.md, "Wallet").
 */
import { useCallback, useEffect, useState } from "react";
import { BrowserProvider, type JsonRpcSigner } from "ethers";

export interface Eip1193 {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

declare global {
  interface Window {
    ethereum?: Eip1193;
  }
}

export type WalletState =
  | { kind: "missing" }
  | { kind: "disconnected" }
  | { kind: "connecting" }
  | { kind: "connected"; address: string; chainId: number; signer: JsonRpcSigner }
  | { kind: "error"; message: string };

/** What a wallet error means for the reader. */
export function walletErrorText(e: unknown): string {
  const err = e as { code?: unknown; info?: { error?: { code?: unknown; message?: string } }; shortMessage?: string; message?: string };
  const code = err.info?.error?.code ?? err.code;
  if (code === 4001 || code === "ACTION_REJECTED")
    return "You rejected the request in your wallet. Nothing was sent; try again when ready.";
  if (code === 4902) return "Your wallet does not know this chain: add it to the wallet (its RPC URL and chain id), then switch.";
  if (code === "INSUFFICIENT_FUNDS") return "The account cannot pay the fee and gas: fund it or lower the fee.";
  return err.shortMessage ?? err.info?.error?.message ?? err.message ?? String(e);
}

export function useWallet(): {
  state: WalletState;
  connect: () => Promise<void>;
  switchChain: (chainId: number) => Promise<void>;
} {
  const eth = typeof window === "undefined" ? undefined : window.ethereum;
  const [state, setState] = useState<WalletState>(eth ? { kind: "disconnected" } : { kind: "missing" });

  const read = useCallback(
    async (ask: boolean) => {
      if (!eth) return setState({ kind: "missing" });
      try {
        const accounts = (await eth.request({ method: ask ? "eth_requestAccounts" : "eth_accounts" })) as string[];
        if (!accounts.length) return setState({ kind: "disconnected" });
        const provider = new BrowserProvider(eth);
        const chainId = Number(await eth.request({ method: "eth_chainId" }));
        setState({ kind: "connected", address: accounts[0].toLowerCase(), chainId, signer: await provider.getSigner(accounts[0]) });
      } catch (e) {
        setState({ kind: "error", message: walletErrorText(e) });
      }
    },
    [eth],
  );

  useEffect(() => {
    if (!eth?.on) return;
    const again = () => void read(false);
    eth.on("accountsChanged", again);
    eth.on("chainChanged", again);
    return () => {
      eth.removeListener?.("accountsChanged", again);
      eth.removeListener?.("chainChanged", again);
    };
  }, [eth, read]);

  const connect = useCallback(async () => {
    setState({ kind: "connecting" });
    await read(true);
  }, [read]);

  const switchChain = useCallback(
    async (chainId: number) => {
      if (!eth) return;
      try {
        await eth.request({ method: "wallet_switchEthereumChain", params: [{ chainId: `0x${chainId.toString(16)}` }] });
        await read(false);
      } catch (e) {
        setState({ kind: "error", message: walletErrorText(e) });
      }
    },
    [eth, read],
  );

  return { state, connect, switchChain };
}
