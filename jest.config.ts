import type { Config } from "jest";

// Tests are TypeScript compiled to CommonJS by SWC (no type-check here: `npm test` runs tsc first).
// Integration tests need the local data stack: the global setup starts it with scripts/infra.sh.
const config: Config = {
	testEnvironment: "node",
	roots: ["<rootDir>/test"],
	testMatch: ["**/*.spec.ts"],
	transform: {
		"^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2024" }, module: { type: "commonjs" } }],
		// @platformatic/kafka (the producer of lib/kafka/client.ts) and its own packages are ESM only: compiled to CommonJS too.
		"/node_modules/@platformatic/.+\\.js$": ["@swc/jest", { jsc: { parser: { syntax: "ecmascript" }, target: "es2024" }, module: { type: "commonjs" } }]
	},
	transformIgnorePatterns: ["/node_modules/(?!@platformatic/)", "\\.pnp\\.[^\\/]+$"],
	globalSetup: "<rootDir>/test/support/global-setup.ts",
	globalTeardown: "<rootDir>/test/support/global-teardown.ts",
	testTimeout: 60000,
	maxWorkers: 2,
	verbose: true
};

export default config;
