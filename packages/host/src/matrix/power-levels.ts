// A room's power levels as plugins get them: Matrix's defaults filled in for every field.
import type { PowerLevels } from "@botyard/sdk";

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** A copy of a map field as the room holds it (older room versions allow numeric strings). */
function levelMap(value: unknown): Record<string, number> {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value));
}

/** Matrix's defaults for `m.room.power_levels` fields (client-server API, m.room.power_levels). */
export function powerLevelsWithDefaults(content: Record<string, unknown> | null, creator: string | null): PowerLevels {
  if (content === null) {
    // No power levels event: the creator has 100, everyone else 0, and every action needs 0
    // except ban/kick/redact (50).
    return {
      users: creator ? { [creator]: 100 } : {},
      users_default: 0,
      events: {},
      events_default: 0,
      state_default: 0,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    };
  }
  return {
    users: levelMap(content.users),
    users_default: numberOr(content.users_default, 0),
    events: levelMap(content.events),
    events_default: numberOr(content.events_default, 0),
    state_default: numberOr(content.state_default, 50),
    ban: numberOr(content.ban, 50),
    kick: numberOr(content.kick, 50),
    redact: numberOr(content.redact, 50),
    invite: numberOr(content.invite, 0),
  };
}
