// Where the pprocd server is: the search order shared with the server and
// every other client (README: Where is the server?).
//
// In order: the address given, else $PPROCD_ADDRESS, else the per-user
// socket ($XDG_RUNTIME_DIR/pprocd/pprocd.sock, or /tmp/pprocd-UID/pprocd.sock
// when XDG_RUNTIME_DIR is unset), where `pprocd` and scripts/run serve by
// default, else the system socket /run/pprocd/pprocd.sock. Without an
// address and $PPROCD_ADDRESS, the first of the two sockets that exists is
// used (the per-user one when neither does).
import { existsSync } from "node:fs";

/** The environment variable that names the server when no address is given. */
export const ADDRESS_ENV = "PPROCD_ADDRESS";
/** Where a system-wide server listens (deploy/systemd). */
export const SYSTEM_SOCKET = "/run/pprocd/pprocd.sock";

/**
 * The per-user socket: $XDG_RUNTIME_DIR/pprocd/pprocd.sock when
 * XDG_RUNTIME_DIR is an absolute path, else /tmp/pprocd-UID/pprocd.sock.
 */
export function userSocketPath(): string {
  const runtime = process.env.XDG_RUNTIME_DIR ?? "";
  if (runtime.startsWith("/")) return runtime.replace(/\/+$/, "") + "/pprocd/pprocd.sock";
  return `/tmp/pprocd-${process.geteuid?.() ?? 0}/pprocd.sock`;
}

/** Where locateServer looked, and what it chose. */
export interface Located {
  /** The address to connect to, as written (see resolveAddress for its gRPC target). */
  address: string;
  /** What was tried, in order, e.g. "unix:/run/pprocd/pprocd.sock (the system socket)". */
  tried: string[];
  /** What a "no server" error adds: what was tried and how to start a server. */
  noServerHint: string;
}

function startHint(target: string): string {
  let listen: string;
  if (target.startsWith("unix:")) {
    const path = target.slice("unix:".length);
    listen = "unix:" + (path.startsWith("///") ? path.slice(2) : path);
  } else if (/^(unix-abstract|dns|ipv4|ipv6):/.test(target)) {
    return "start one with `pprocd` or scripts/run";
  } else {
    listen = "tcp:" + target;
  }
  return `start one with \`pprocd --listen ${listen}\` or scripts/run --listen ${listen}`;
}

/** Follows the search order (see the module) with `address` as the explicit address. */
export function locateServer(address?: string): Located {
  const given = address?.trim() ? address : undefined;
  const fromEnv = process.env[ADDRESS_ENV];
  if (given !== undefined || fromEnv) {
    const chosen = (given ?? fromEnv) as string;
    const tried = `${resolveAddress(chosen)} (${given !== undefined ? "the address given" : "from $" + ADDRESS_ENV})`;
    return { address: chosen, tried: [tried], noServerHint: `tried ${tried}; ${startHint(resolveAddress(chosen))}` };
  }
  const user = userSocketPath();
  const socket = !existsSync(user) && existsSync(SYSTEM_SOCKET) ? SYSTEM_SOCKET : user;
  const tried = [`unix:${user} (the per-user socket)`, `unix:${SYSTEM_SOCKET} (the system socket)`];
  return {
    address: "unix:" + socket,
    tried,
    noServerHint:
      `tried ${tried.join(", then ")}, as no address was given and $${ADDRESS_ENV} is unset; ` +
      "start one with `pprocd` or scripts/run",
  };
}

/** The address used when none is given: $PPROCD_ADDRESS, else the per-user or the system socket. */
export function defaultAddress(): string {
  return locateServer().address;
}

/**
 * The grpc-js target of an address: "unix:PATH" and "unix:///ABS" as they
 * are, a bare socket path (containing "/" or ending in ".sock") as
 * "unix:PATH", "tcp:HOST:PORT" and "HOST:PORT" as "HOST:PORT".
 */
export function resolveAddress(address: string = defaultAddress()): string {
  const text = address.trim();
  if (text === "") throw new TypeError("an empty address");
  if (text.startsWith("unix:")) return text;
  if (text.startsWith("tcp:")) return text.slice("tcp:".length);
  if (text.includes("/") || text.endsWith(".sock")) return "unix:" + text;
  return text;
}
