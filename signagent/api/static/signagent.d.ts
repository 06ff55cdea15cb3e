// TypeScript declarations of the SignAgent JavaScript client (signagent.js, served by the agent at /signagent.js).
// The HTTP contract behind it is docs/API.md.

/** Base class of every error of the client: `code` is stable, `messageRu` is for the user. */
export class SignAgentError extends Error {
  constructor(code: string, message: string, messageRu?: string, extra?: ErrorExtra);
  readonly code: string;
  readonly messageRu: string;
  /** The HTTP status of the agent's answer, when there was one. */
  readonly status?: number;
  readonly retriable: boolean;
}

export interface ErrorExtra {
  status?: number;
  retriable?: boolean;
  cause?: unknown;
}

/** Nothing answers on the agent's port (code `agent_not_running`). */
export class AgentNotRunning extends SignAgentError {
  constructor(extra?: ErrorExtra);
}
/** Chromium's "local network access" permission is refused for the page (code `local_network_access_denied`). */
export class LocalNetworkAccessDenied extends SignAgentError {
  constructor(extra?: ErrorExtra);
}
/** The page's origin is not paired: call `pair()` first (code `origin_not_paired`). */
export class NotPaired extends SignAgentError {
  constructor(message?: string, messageRu?: string, extra?: ErrorExtra);
}
/** The user refused in the agent's window (code `user_cancelled`). */
export class UserCancelled extends SignAgentError {
  constructor(message?: string, messageRu?: string, extra?: ErrorExtra);
}
/** The token's PIN is locked (code `pin_locked`). */
export class PinLocked extends SignAgentError {
  constructor(message?: string, messageRu?: string, extra?: ErrorExtra);
}
/** The token was removed (code `token_removed`). */
export class TokenRemoved extends SignAgentError {
  constructor(message?: string, messageRu?: string, extra?: ErrorExtra);
}
/** The request expired, or the agent did not answer in time (code `timeout`). */
export class Timeout extends SignAgentError {
  constructor(message?: string, messageRu?: string, extra?: ErrorExtra);
}
/** Any other error of the agent; `code` is the agent's (docs/API.md, "Errors"). */
export class AgentError extends SignAgentError {
  constructor(code: string, message?: string, messageRu?: string, extra?: ErrorExtra);
}

export interface ConnectOptions {
  /** Default 36985. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** How long one plain call may take, default 10000 ms (waiting for the user is bounded by the agent). */
  timeoutMs?: number;
  /** Called with the confirmation page's address when the popup was blocked; else a link is inserted. */
  onConfirmLink?: (url: string) => void;
  /** `window.open` features of the confirmation popup. */
  popupFeatures?: string;
  /** Close the popup when the request is finished (default true). */
  closePopup?: boolean;
}

export interface AgentInfo {
  version: string;
  gost_backend: string;
  capabilities: string[];
  paired: boolean;
}

export interface Certificate {
  /** Streebog-256 thumbprint, hex: what `sign` takes as `certificateId`. */
  id: string;
  sha1: string;
  subject: string;
  owner_name?: string;
  organisation?: string;
  identity: Record<string, string>;
  role?: string;
  issuer: string;
  not_before: string;
  not_after: string;
  days_left: number;
  warnings: string[];
  has_private_key: boolean;
  chain: { status: 'valid' | 'invalid' | 'indeterminate' | 'unknown'; [key: string]: unknown };
  source: { kind: string; label?: string; serial?: string; [key: string]: unknown };
  /** Base64 DER. */
  certificate: string;
  [key: string]: unknown;
}

export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;

export interface SignDocument {
  /** A string is signed as its UTF-8 bytes. Give `content` or `digest`. */
  content?: string | Bytes | Blob;
  /** Streebog hash of the content, hex (64 or 128 digits) or bytes; detached signatures only. */
  digest?: string | Bytes;
  /** Default false with `content`, true with `digest`. */
  detached?: boolean;
  /** Default 'text/plain'. */
  contentType?: string;
  filename?: string;
  description?: string;
}

export interface SignRequest extends SignDocument {
  certificateId: string;
}

export interface SignResult {
  /** Base64 DER of the CAdES-BES ContentInfo. */
  cms: string;
  /** Base64 DER of the signer's certificate. */
  certificate: string;
  certificateId: string;
  signingTime: string;
  requestId: string;
}

export interface BatchResult {
  signatures: Array<{ cms: string; filename?: string }>;
  certificate: string;
  certificateId: string;
  signingTime: string;
  requestId: string;
}

/** docs/API.md, "Authentication proof": send it to the backend that issued the challenge. */
export interface AuthenticationProof {
  format: 'signagent-auth';
  version: number;
  origin: string;
  /** Base64. */
  challenge: string;
  /** Base64 DER. */
  certificate: string;
  certificateId: string;
  /** OID of the signature algorithm. */
  algorithm: string;
  /** Base64 of the raw GOST R 34.10-2012 signature s || r. */
  signature: string;
  requestId: string;
}

export type AgentEvent = 'token-inserted' | 'token-removed' | 'certificates-changed' | 'request-status' | 'error';

export class SignAgent {
  private constructor(baseUrl: string, options: ConnectOptions);
  /** Connects to the agent on this computer (checks it answers). */
  static connect(options?: ConnectOptions): Promise<SignAgent>;
  readonly baseUrl: string;
  /** The answer of `info()` at connection time. */
  lastInfo: AgentInfo;
  info(): Promise<AgentInfo>;
  /** Pair this page's origin (the user allows it in the agent's window). Call from a user gesture. */
  pair(): Promise<true>;
  certificates(): Promise<Certificate[]>;
  /** The user confirms and types the PIN in the agent's window. Call from a user gesture. */
  sign(request: SignRequest): Promise<SignResult>;
  /** 1 to 50 documents, one confirmation. Call from a user gesture. */
  signBatch(documents: Array<SignDocument & { certificateId?: string }>,
            options?: { certificateId?: string }): Promise<BatchResult>;
  /** A string challenge is base64; at least 32 bytes. Call from a user gesture. */
  authenticate(challenge: string | Bytes, options?: { certificateId?: string }): Promise<AuthenticationProof>;
  /** Returns a function that removes the handler. */
  on(event: AgentEvent, handler: (data: any) => void): () => void;
  /** Closes the event stream. */
  close(): void;
}
