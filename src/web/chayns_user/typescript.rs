//! The TypeScript declarations of the chayns user client: its options, the host it reads and
//! its results.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_CHAYNS: &'static str = r#"
/** Options of `createChaynsUserClient`. */
export interface ChaynsUserClientOptions {
    /** The user's access token, or a function returning it (or a promise of it), asked for at
     *  every send: give a function when the host rotates the token. */
    accessToken: string | (() => string | Promise<string>);
    /** The user's chayns id (the sender). */
    userId: number;
    /** The site (`locationId`). */
    locationId: number;
    /** The chayns user API (default https://sub54.tobit.com). */
    baseUrl?: string;
    /** Timeout of a send, in milliseconds, the host's token calls included (default 15000). */
    timeoutMs?: number;
    /** Called after every attempt: for logs and debugging. */
    onAttempt?: (event: AttemptEvent) => void;
}
/** Options of `fromChaynsApi` and `fromChaynsEnv`. */
export interface ChaynsClientOptions {
    /** The chayns user API (default https://sub54.tobit.com). */
    baseUrl?: string;
    /** Timeout of a send, in milliseconds, the host's token calls included (default 15000). */
    timeoutMs?: number;
    /** Called after every attempt: for logs and debugging. */
    onAttempt?: (event: AttemptEvent) => void;
}
/** What `fromChaynsApi` uses of npm chayns-api (3.x): `import * as chayns from "chayns-api"`
 *  fits, and so does a plain object in tests. Asked at every send. */
export interface ChaynsApiLike {
    /** The user's `tobitAccessToken` (the sends' `Authorization: Bearer`); `undefined` when
     *  nobody is logged in (the send then rejects with `unauthenticated`). */
    getAccessToken: () => Promise<{ accessToken: string | undefined }> | { accessToken: string | undefined };
    /** The logged-in user: `userId` is the sender. */
    getUser: () => { userId?: number; isAnonymous?: boolean } | undefined | Promise<{ userId?: number } | undefined>;
    /** The site the tapp runs on: its `locationId`. */
    getSite: () => { locationId: number } | Promise<{ locationId: number }>;
    /** Called once when chayns refuses the token (HTTP 401), before the one retry. */
    refreshAccessToken?: () => Promise<void>;
}
/** The part of the legacy global `window.chayns` that `fromChaynsEnv` reads. */
export interface ChaynsEnvironment {
    /** What the legacy chayns host tells the tapp. */
    env: {
        /** The logged-in user, if any. */
        user?: {
            /** The user's id: the sender of the messages. */
            id?: number;
            /** The user's chayns token, sent as `Authorization: Bearer`. */
            tobitAccessToken?: string;
            /** Whether someone is logged in. */
            isAuthenticated?: boolean;
        };
        /** The site the tapp runs on. */
        site?: {
            /** The site's location id: where page messages go. */
            locationId?: number;
        };
    };
}
/**
 * What chayns answered to a user-client send, passed on as it came. chayns documents no answer
 * body: **assumed**, its JSON when it is JSON, else its text as a string.
 */
export type ChaynsUserReply = JsonValue;
/** Options of one user-client send. */
export interface SendOptions {
    /** Aborts the send; it then rejects with code `aborted` (the reason as `cause`). */
    signal?: AbortSignal;
    /** Overrides the client's timeout for this send. */
    timeoutMs?: number;
}
"#;
