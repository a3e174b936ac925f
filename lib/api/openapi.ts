/** The OpenAPI 3.1 document of the REST service, served at /openapi.json. */
export function openApiDocument(version: string, apiKeys: boolean): Record<string, unknown> {
	const wrapper = {
		type: "object",
		required: ["status", "data", "error"],
		properties: {
			status: { type: "string", enum: ["SUCCESS", "FAILURE"] },
			data: {},
			error: { oneOf: [{ type: "null" }, { type: "object", required: ["message"], properties: { message: { type: "string" }, cause: { type: "string" } } }] }
		}
	};
	const failures = {
		"400": { description: "Not JSON, or not a valid request (error.cause says why)", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
		"401": { description: "Missing or unknown API key (when keys are configured)", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
		"403": { description: "The API key may not act for this appid", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
		"413": { description: "Body larger than REST_BODY_LIMIT", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
		"500": { description: "Kafka or Redis unreachable, or an internal error", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } }
	};
	const index = {
		summary: "Health of this REST instance",
		responses: {
			"200": {
				description: "Connections and uptime (not wrapped)",
				content: {
					"application/json": {
						schema: {
							type: "object",
							properties: {
								kafka_connected: { type: "boolean" },
								redis_connected: { type: "boolean" },
								my_id: { type: "string" },
								node_health: { type: "string", enum: ["GREEN", "YELLOW", "RED"] },
								uptime_sec: { type: "integer" }
							}
						}
					}
				}
			}
		}
	};
	return {
		openapi: "3.1.0",
		info: { title: "Scrapy Cluster REST API (scrapy-cluster-ts)", version, description: "Feed crawl, action, stats and zookeeper requests; poll late answers." },
		...(apiKeys ? { security: [{ apiKey: [] }] } : {}),
		paths: {
			"/": { get: index, post: index },
			"/feed": {
				post: {
					summary: "Feed a request of the Kafka API (crawl, action, stats, zookeeper)",
					requestBody: { required: true, content: { "application/json": { schema: { type: "object", description: "A crawl, action, stats or zookeeper request as the Kafka API defines it" } } } },
					responses: {
						"200": {
							description:
								"Crawl: data null. Action/stats/zookeeper: data is the answer, or {poll_id} when it did not come within WAIT_FOR_RESPONSE_TIME",
							content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } }
						},
						...failures
					}
				}
			},
			"/poll": {
				post: {
					summary: "Fetch a late answer by poll_id",
					requestBody: {
						required: true,
						content: { "application/json": { schema: { type: "object", required: ["poll_id"], additionalProperties: false, properties: { poll_id: { type: "string", minLength: 1, maxLength: 100 } } } } }
					},
					responses: {
						"200": { description: "The answer", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
						"404": { description: "Could not find matching poll_id", content: { "application/json": { schema: { $ref: "#/components/schemas/Wrapper" } } } },
						...failures
					}
				}
			},
			"/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1 document" } } } }
		},
		components: {
			schemas: { Wrapper: wrapper },
			...(apiKeys ? { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-Api-Key" } } } : {})
		}
	};
}
