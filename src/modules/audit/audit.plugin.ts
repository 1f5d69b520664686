/**
 * Records every mutation root field in the audit trail once the response is known, refusals
 * included (a denied write is exactly what an auditor looks for). An Apollo plugin rather than
 * a resolver middleware because authorization refuses a field before any middleware of ours
 * would run.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { getArgumentValues, Kind, type GraphQLFormattedError } from "graphql";
import type { Context } from "../../graphql/context.js";
import type { Logger } from "../../logger.js";
import { recordAudit, type AuditRecord } from "./audit.service.js";
import { AuditOutcome } from "./audit.type.js";

interface Attempt {
  responseKey: string;
  operation: string;
  input: unknown;
}

function outcomeOf(code: string | undefined): AuditOutcome {
  if (code === "FORBIDDEN" || code === "UNAUTHENTICATED") return AuditOutcome.DENIED;
  if (code === "INTERNAL_SERVER_ERROR" || code === undefined) return AuditOutcome.FAILED;
  return AuditOutcome.REJECTED;
}

/** The idempotency key and a short name for what an input writes. */
function describe(input: unknown): { idempotencyKey: string | null; target: string | null } {
  if (Array.isArray(input)) return { idempotencyKey: null, target: `${input.length} row(s)` };
  if (input && typeof input === "object") {
    const i = input as Record<string, unknown>;
    const key = typeof i.idempotencyKey === "string" ? i.idempotencyKey : typeof i.transactionId === "string" ? i.transactionId : null;
    const target =
      typeof i.code === "string" ? i.code : typeof i.promotionCode === "string" ? `${i.promotionCode} at ${String(i.merchantCode)}` : null;
    return { idempotencyKey: key, target };
  }
  return { idempotencyKey: null, target: null };
}

export function auditPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let attempts: Attempt[] = [];
      // What each mutation field's resolver returned, whatever the client chose to select.
      const results = new Map<string, unknown>();
      return {
        async executionDidStart({ operation }) {
          if (operation.operation !== "mutation") return; // queries pay nothing for auditing
          return {
            willResolveField({ info }) {
              if (info.path.prev !== undefined) return;
              return (error, result) => {
                if (!error) results.set(String(info.path.key), result);
              };
            },
          };
        },
        async didResolveOperation({ operation, schema, request }) {
          if (operation?.operation !== "mutation") return;
          const mutation = schema.getMutationType()!;
          attempts = operation.selectionSet.selections.flatMap((node): Attempt[] => {
            if (node.kind !== Kind.FIELD) return [];
            const field = mutation.getFields()[node.name.value];
            if (!field) return [];
            let input: unknown = null;
            try {
              input = getArgumentValues(field, node, request.variables ?? {}).input ?? null;
            } catch {
              // Bad arguments fail the field itself; the entry then shows the refusal without the input.
            }
            return [{ responseKey: node.alias?.value ?? node.name.value, operation: node.name.value, input }];
          });
        },
        async willSendResponse({ response, contextValue }) {
          if (attempts.length === 0 || response.body.kind !== "single") return;
          const { errors } = response.body.singleResult as { errors?: readonly GraphQLFormattedError[] };
          const claims = contextValue.claims;
          const entries = attempts.map((a): AuditRecord => {
            const error = errors?.find((e) => e.path?.[0] === a.responseKey);
            const value = results.get(a.responseKey);
            const base = { subject: claims?.sub ?? "anonymous", role: claims?.role ?? "ANONYMOUS", operation: a.operation, ...describe(a.input) };
            if (error || value == null) {
              const code = error?.extensions?.code as string | undefined;
              const issues = (error?.extensions?.issues as unknown[] | undefined)?.slice(0, 20);
              return { ...base, outcome: outcomeOf(code), errorCode: code ?? null, details: issues ? { issues } : undefined };
            }
            const counts = value as { created?: number; updated?: number; unchanged?: number };
            const details = typeof counts.created === "number" ? { created: counts.created, updated: counts.updated, unchanged: counts.unchanged } : undefined;
            return { ...base, outcome: AuditOutcome.SUCCEEDED, details };
          });
          try {
            await recordAudit(contextValue.db, entries);
          } catch (err) {
            logger.error({ err, entries }, "could not write the audit trail");
          }
        },
      };
    },
  };
}
