// Bundle entry: maubot.yaml's main_class is OwncastSentry (also the default export).
import { OwncastSentry } from "./plugin.js";

export { OwncastSentry };
export default OwncastSentry;
