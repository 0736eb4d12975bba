// The film page: the player and its thumbnail timeline, marks, clips, stills and the
// film's own typed notes. Each tool is its own module; they share the notes (notes.js)
// and the player (player.js).

import { clips } from "./clips.js";
import { fields } from "./fields.js";
import { marks } from "./marks.js";
import { initNotes } from "./notes.js";
import { stills } from "./stills.js";
import { tabs } from "./tabs.js";
import { timeline } from "./timeline.js";
import { undoBar } from "./undo.js";

timeline();
tabs();
marks();
clips();
stills();
fields();
undoBar();
initNotes();
