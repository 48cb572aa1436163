// Bundle entry: maubot.yaml's main_class is MediaLinks (also the default export).
import { MediaLinks } from "./plugin.js";

export { MediaLinks };
export default MediaLinks;
