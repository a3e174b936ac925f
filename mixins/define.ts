/**
 * Type helper for mixins: their hooks and methods see `this` with the mixin's own members (TThis),
 * while services list them as plain `Partial<ServiceSchema>`.
 */
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";

export function defineMixin<TThis>(
	schema: Partial<ServiceSchema<ServiceSettingSchema, Record<string, unknown>, Record<string, unknown>, Service & TThis>>
): Partial<ServiceSchema> {
	return schema as unknown as Partial<ServiceSchema>;
}
