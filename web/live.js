// The page's live connection: graphql-ws on the API's own path (/graphql), signed in with the
// caller's token in connection_init, sending trusted documents by hash (an empty query and
// Apollo's persistedQuery extension, which src/live/subscriptions.ts reads). It retries for
// ever with graphql-ws's backoff; each retry subscribes again and the server's first event is
// the state at that moment, so a screen catches up with what it missed while cut off.
import { createClient } from "graphql-ws";

/** The server's close code for a refused or expired token: retrying with it would be refused again. */
const UNAUTHORIZED = 4401;
const isUnauthorized = (event) => event?.code === UNAUTHORIZED;

/**
 * A connection for one caller, opened at once. `onState` hears "connecting" (the first time),
 * "live", "reconnecting" (after a drop, until it is back) and "unauthorized" (token refused or
 * expired: no retry).
 */
export function connectLive(config, caller, onState) {
  const url = new URL(config.endpoint, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  let connectedOnce = false;
  return createClient({
    url: url.href,
    connectionParams: { authorization: `Bearer ${caller.token}` },
    // Open while the caller is signed in, whatever the screen: a screen change keeps the socket.
    lazy: false,
    onNonLazyError: () => {},
    retryAttempts: Infinity,
    shouldRetry: (event) => !isUnauthorized(event),
    on: {
      connecting: () => onState(connectedOnce ? "reconnecting" : "connecting"),
      connected: () => {
        connectedOnce = true;
        onState("live");
      },
      closed: (event) => {
        if (isUnauthorized(event)) onState("unauthorized");
        else if (connectedOnce) onState("reconnecting");
      },
    },
  });
}

/** Follows one trusted subscription; returns its unsubscribe. */
export function followLive(client, config, follow, onData, onError) {
  const hash = config.subscriptions[follow.document].replace(/^sha256:/, "");
  return client.subscribe(
    { query: "", variables: follow.variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } },
    {
      next: (result) => (result.data ? onData(result.data) : onError(result.errors?.[0])),
      error: (err) => onError(Array.isArray(err) ? err[0] : null),
      complete: () => {},
    },
  );
}
