/**
 * Puts every mutation request in the audit trail. An Apollo plugin rather than a resolver
 * middleware because authorization refuses a field before any middleware of ours would run.
 *
 * - Each root field that runs gets a stamp (who, what, the key) as graphql-js starts it, so a
 *   field is found however the document spells it (aliases, fragments, spreads) and a field
 *   that `@skip` or `@include` leaves out, which never runs, gets none. The resolver hands the
 *   stamp to its service (`auditStamp`), whose transaction writes the entry with the write.
 * - A field whose write did not commit (refused, failed) gets its entry here, once the
 *   response is known: outcome and code from the error at that field's own path. An error
 *   deeper down (a nested field refused) does not undo a committed write.
 * - A mutation request refused before any field ran (parse or validation errors, document
 *   limits, bad variables) gets one entry naming its root fields, or "unparsed".
 *
 * All of a request's entries written here go in one insert.
 */
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import { OperationTypeNode, type GraphQLFormattedError, type GraphQLResolveInfo } from "graphql";
import type { Context } from "../../graphql/context.js";
import type { Logger } from "../../logger.js";
import { looksLikeMutation, mutationOf, UNPARSED } from "./audit.document.js";
import { isCommitted, outcomeOf, recordAudit, refusedEntry, stampFor, type AuditRecord, type AuditStamp } from "./audit.service.js";
import { AuditOutcome } from "./audit.type.js";

/**
 * The stamp of the mutation root field this resolver runs, for its service's write options.
 * The audit plugin made it as the field started; a write without one would go unaudited, so
 * its absence is a fault, not a default.
 */
export function auditStamp(ctx: Context, info: GraphQLResolveInfo): AuditStamp {
  const stamp = info.path.prev === undefined ? ctx.auditStamps.get(String(info.path.key)) : undefined;
  if (!stamp) throw new Error(`no audit stamp for ${info.fieldName}: is the audit plugin installed, and is this a mutation's root field?`);
  return stamp;
}

interface RootField {
  key: string;
  stamp: AuditStamp;
  /** The resolver returned a value (its write committed, or should have). */
  returned: boolean;
}

type Errors = readonly GraphQLFormattedError[];

const codeOf = (error: GraphQLFormattedError | undefined) => error?.extensions?.code as string | undefined;

/** The entry of a field whose write did not commit with its own entry, or null if it did. */
function fieldEntry(field: RootField, errors: Errors, logger: Logger): AuditRecord | null {
  if (isCommitted(field.stamp)) return null;
  const error = errors.find((e) => e.path?.length === 1 && e.path[0] === field.key);
  if (!error && field.returned) {
    // Every mutation's service takes the stamp; one that does not is a bug to fix, and the
    // write is still recorded, if later than it should be.
    logger.error({ operation: field.stamp.operation }, "a mutation returned without writing its audit entry in its transaction");
    return { ...field.stamp, outcome: AuditOutcome.SUCCEEDED, errorCode: null };
  }
  return refusedEntry(field.stamp, codeOf(error), error?.extensions?.issues);
}

/** The one entry of a mutation request refused before any field ran, or null. */
function requestEntry(rc: GraphQLRequestContextWillSendResponse<Context>, errors: Errors): AuditRecord | null {
  if (errors.length === 0 || rc.operation?.operation === OperationTypeNode.QUERY) return null;
  let operation: string | null;
  if (rc.document) operation = mutationOf(rc.document, rc.operation?.name?.value ?? rc.request.operationName);
  else {
    const text = rc.source ?? rc.request.query;
    operation = typeof text === "string" && looksLikeMutation(text) ? UNPARSED : null;
  }
  if (operation === null) return null;
  const code = codeOf(errors[0]);
  const claims = rc.contextValue.claims;
  return {
    subject: claims?.sub ?? "anonymous",
    role: claims?.role ?? "ANONYMOUS",
    operation,
    outcome: outcomeOf(code),
    errorCode: code ?? null,
    details: { message: errors[0].message, ...(errors.length > 1 ? { errors: errors.length } : {}) },
  };
}

export function auditPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const fields: RootField[] = [];
      return {
        async executionDidStart({ operation }) {
          if (operation.operation !== OperationTypeNode.MUTATION) return; // queries pay nothing for auditing
          return {
            willResolveField({ info, args, contextValue }) {
              if (info.path.prev !== undefined) return;
              const field: RootField = { key: String(info.path.key), stamp: stampFor(contextValue.claims, info.fieldName, args.input), returned: false };
              contextValue.auditStamps.set(field.key, field.stamp);
              fields.push(field);
              return (error) => {
                if (!error) field.returned = true;
              };
            },
          };
        },
        async willSendResponse(rc) {
          if (rc.response.body.kind !== "single") return;
          const errors = rc.response.body.singleResult.errors ?? [];
          const entries =
            fields.length > 0 ? fields.flatMap((f) => fieldEntry(f, errors, logger) ?? []) : [requestEntry(rc, errors)].filter((e) => e !== null);
          try {
            await recordAudit(rc.contextValue.db, entries);
          } catch (err) {
            // Cleaned and bounded, an entry has nothing left that the insert could refuse: this is
            // the database itself failing, and the response must still go out.
            logger.error({ err, entries }, "could not write the audit trail");
          }
        },
      };
    },
  };
}
