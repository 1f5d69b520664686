/**
 * A span per GraphQL request over HTTP (`graphql <type> <name>`): child of the HTTP server span
 * the HTTP instrumentation opened, parent of the database spans the request causes
 * (src/observability/tracing.ts). The middleware opens it and runs the rest of the request
 * inside it; the Apollo plugin names it once the operation is known. Not the graphql-js
 * instrumentation: it patches graphql's CommonJS module, and our code and Apollo import the ES
 * module build. Without a tracer provider (no OTLP endpoint) the API hands out no-op spans.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import type { RequestHandler } from "express";
import type { Context } from "../graphql/context.js";

const tracer = trace.getTracer("card-growth/graphql");

/** Mount just before Apollo: after the body is read, whose stream events run in another context. */
export const graphqlSpan: RequestHandler = (_req, res, next) => {
  const span = tracer.startSpan("graphql");
  res.once("close", () => span.end());
  context.with(trace.setSpan(context.active(), span), next);
};

export function graphqlSpanNames(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const span = trace.getActiveSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? "unknown";
          span.updateName(`graphql ${type}${operationName ? ` ${operationName}` : ""}`);
          span.setAttribute("graphql.operation.type", type);
          // The client's own name is only an attribute of its trace, never a metric label.
          if (operationName) span.setAttribute("graphql.operation.name", operationName);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          if (errors.length) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(errors[0].extensions?.code ?? "INTERNAL_SERVER_ERROR") });
            span.setAttribute("graphql.error.codes", [...new Set(errors.map((e) => String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR")))]);
          }
        },
      };
    },
  };
}
