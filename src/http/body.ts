/**
 * Reading a request's JSON body, after the caller has been counted (src/server.ts): anonymous
 * callers get a small limit, signed-in ones the full one, and the nesting depth is checked on
 * the raw bytes before JSON.parse runs, so a megabyte of `[[[[…` costs a scan that stops at
 * the first bracket too deep, not a parse.
 */
import express, { type RequestHandler } from "express";
import type { Config } from "../config.js";
import type { Claims } from "../modules/auth/auth.service.js";

/** A body refused before parsing; the error handler in src/server.ts turns `type` into a response. */
class BodyRefusal extends Error {
  constructor(
    readonly type: "entity.too.deep" | "encoding.not.utf8",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`, judged on its UTF-8 bytes
 * without parsing it: brackets inside strings do not count, and the scan stops at the first
 * bracket past the limit. (In UTF-8 no byte of a multi-byte character is an ASCII bracket or
 * quote, so bytes can be read one at a time.)
 */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++; // a backslash escapes the next byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

/** Parses application/json bodies with the limit that fits the caller (res.locals.claims). */
export function jsonBody(config: Config): RequestHandler {
  const verify = (_req: unknown, res: express.Response, buf: Buffer, encoding: string) => {
    // RFC 8259: JSON between systems is UTF-8; the depth scan reads UTF-8 bytes.
    if (encoding.toLowerCase() !== "utf-8") throw new BodyRefusal("encoding.not.utf8", "JSON bodies must be UTF-8");
    if (nestsDeeperThan(buf, config.MAX_JSON_DEPTH)) {
      throw new BodyRefusal("entity.too.deep", `Request body nests arrays or objects deeper than ${config.MAX_JSON_DEPTH} levels`);
    }
    res.locals.bodyBytes = buf.length;
  };
  const signedIn = express.json({ limit: config.BODY_LIMIT_BYTES, verify });
  const anonymous = express.json({ limit: config.ANONYMOUS_BODY_LIMIT_BYTES, verify });
  return (req, res, next) => ((res.locals.claims as Claims | null) ? signedIn : anonymous)(req, res, next);
}
