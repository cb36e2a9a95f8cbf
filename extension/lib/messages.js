// The message types for ES modules, from the one definition in ../messages.js.
import "../messages.js";

export const MSG = globalThis.NEWSTILT_MESSAGES;
