/**
 * The first frame of an attach: the headless terminal's screen redrawn in a fresh terminal with
 * every attribute and mode xterm.js keeps. @xterm/addon-serialize loses some of them: it ends
 * dim with the code that also ends bold (SGR 22), so a bold cell after a dim one shows plain; it
 * writes no underline style (curly, dotted, ...) or colour, no cursor visibility or style, no
 * mouse encoding (SGR, 1006), no scroll region, no character sets. Each cell here carries its
 * whole set of attributes from a reset, and every mode is written, on or off.
 */
import type xtermHeadless from "@xterm/headless";

type Terminal = InstanceType<typeof xtermHeadless.Terminal>;
type Cell = NonNullable<ReturnType<Terminal["buffer"]["active"]["getNullCell"]>>;

/** What xterm.js keeps of a cell beyond its public API (`CellData`, `AttributeData`). */
interface CellInternals {
  getUnderlineStyle(): number;
  getUnderlineColor(): number;
  isUnderlineColorRGB(): boolean;
  isUnderlineColorPalette(): boolean;
}

/** The pen: the attributes the next character is written with (`AttributeData`). */
type Pen = Pick<
  Cell,
  | "isBold"
  | "isDim"
  | "isItalic"
  | "isUnderline"
  | "isBlink"
  | "isInverse"
  | "isInvisible"
  | "isStrikethrough"
  | "isOverline"
  | "getFgColor"
  | "getBgColor"
  | "isFgRGB"
  | "isFgPalette"
  | "isBgRGB"
  | "isBgPalette"
> &
  CellInternals;

/** The parts of xterm.js's core the frame reads; none of them is in the public API. */
interface Core {
  coreService: {
    isCursorHidden: boolean;
    decPrivateModes: { cursorStyle?: string; cursorBlink?: boolean };
  };
  coreMouseService: { activeEncoding: string };
  _charsetService: { glevel: number; _charsets: Array<Record<string, string> | undefined> };
  _inputHandler: { _curAttrData: Pen };
  buffer: { scrollTop: number; scrollBottom: number };
}

/** Which part of the screen a frame shows: a smaller client sees a crop. */
export interface Viewport {
  cols: number;
  rows: number;
}

/** The parameters of the SGR sequence that sets `pen`'s attributes after a reset. */
export function sgrOf(pen: Pen): string {
  const codes: Array<number | string> = [0];
  if (pen.isBold()) codes.push(1);
  if (pen.isDim()) codes.push(2);
  if (pen.isItalic()) codes.push(3);
  const underline = pen.isUnderline() ? pen.getUnderlineStyle() : 0;
  if (underline === 1) codes.push(4);
  else if (underline > 1) codes.push(`4:${underline}`);
  if (pen.isBlink()) codes.push(5);
  if (pen.isInverse()) codes.push(7);
  if (pen.isInvisible()) codes.push(8);
  if (pen.isStrikethrough()) codes.push(9);
  if (pen.isOverline()) codes.push(53);
  codes.push(...colour(pen.isFgRGB(), pen.isFgPalette(), pen.getFgColor(), 30, 38));
  codes.push(...colour(pen.isBgRGB(), pen.isBgPalette(), pen.getBgColor(), 40, 48));
  if (underline > 0) {
    const color = pen.getUnderlineColor();
    if (pen.isUnderlineColorRGB())
      codes.push(`58:2::${(color >>> 16) & 0xff}:${(color >>> 8) & 0xff}:${color & 0xff}`);
    else if (pen.isUnderlineColorPalette()) codes.push(`58:5:${color}`);
  }
  return codes.join(";");
}

function colour(rgb: boolean, palette: boolean, color: number, base: number, extended: number) {
  if (rgb) return [extended, 2, (color >>> 16) & 0xff, (color >>> 8) & 0xff, color & 0xff];
  if (!palette) return [];
  if (color >= 16) return [extended, 5, color];
  return [color >= 8 ? base + 60 + (color - 8) : base + color];
}

const MOUSE_PROTOCOLS = { x10: 9, vt200: 1000, drag: 1002, any: 1003 } as const;
const MOUSE_ENCODINGS: Record<string, number> = { SGR: 1006, SGR_PIXELS: 1016 };
const CURSOR_STYLES: Record<string, number> = { block: 1, underline: 3, bar: 5 };

const mode = (number: number | string, on: boolean) => `\x1b[${number}${on ? "h" : "l"}`;

/**
 * The active buffer's visible screen, or the part of it `viewport` holds around the cursor,
 * then the terminal's modes and the cursor. Written after a soft reset and a clear.
 */
export function serializeFrame(terminal: Terminal, viewport?: Viewport): string {
  const core = (terminal as unknown as { _core: Core })._core;
  const buffer = terminal.buffer.active;
  const cols = Math.min(terminal.cols, viewport?.cols ?? terminal.cols);
  const rows = Math.min(terminal.rows, viewport?.rows ?? terminal.rows);
  // The crop follows the cursor, as tmux pans a smaller client's view.
  const left = Math.max(0, Math.min(buffer.cursorX - cols + 1, terminal.cols - cols));
  const top = Math.max(0, Math.min(buffer.cursorY - rows + 1, terminal.rows - rows));
  let out = "";
  let pen = "0";
  const cell = buffer.getNullCell();
  for (let y = 0; y < rows; y++) {
    const line = buffer.getLine(buffer.baseY + top + y);
    if (line === undefined) continue;
    let row = "";
    let skipped = 0;
    for (let x = left; x < left + cols; x++) {
      line.getCell(x, cell);
      const width = cell.getWidth();
      if (width === 0) continue;
      // A wide character cut by the crop's right edge would wrap.
      if (x + width > left + cols) break;
      const chars = cell.getChars();
      const sgr = sgrOf(cell as unknown as Pen);
      if (chars === "" && sgr === "0") {
        skipped += 1;
        continue;
      }
      if (skipped > 0) row += `\x1b[${skipped}C`;
      skipped = 0;
      if (sgr !== pen) row += `\x1b[${sgr}m`;
      pen = sgr;
      // An erased cell keeps its colour (erased, not a space): ECH writes it with the pen's.
      row += chars === "" ? "\x1b[X\x1b[C" : chars;
    }
    if (row !== "") out += `\x1b[${y + 1};1H${row}`;
  }
  out += "\x1b[0m";

  const modes = terminal.modes;
  const scroll = core.buffer;
  if (scroll.scrollTop !== 0 || scroll.scrollBottom !== terminal.rows - 1)
    out += `\x1b[${scroll.scrollTop + 1};${scroll.scrollBottom + 1}r`;
  out += mode("?1", modes.applicationCursorKeysMode);
  out += modes.applicationKeypadMode ? "\x1b=" : "\x1b>";
  out += mode("?2004", modes.bracketedPasteMode);
  out += mode(4, modes.insertMode);
  out += mode("?45", modes.reverseWraparoundMode);
  out += mode("?1004", modes.sendFocusMode);
  out += mode("?7", modes.wraparoundMode);
  // Ending any mouse protocol (or encoding) ends the one in use: all end, then one starts.
  for (const number of Object.values(MOUSE_PROTOCOLS)) out += mode(`?${number}`, false);
  if (modes.mouseTrackingMode !== "none")
    out += mode(`?${MOUSE_PROTOCOLS[modes.mouseTrackingMode]}`, true);
  for (const number of Object.values(MOUSE_ENCODINGS)) out += mode(`?${number}`, false);
  const encoding = MOUSE_ENCODINGS[core.coreMouseService.activeEncoding];
  if (encoding !== undefined) out += mode(`?${encoding}`, true);
  const { cursorStyle, cursorBlink } = core.coreService.decPrivateModes;
  const style = cursorStyle === undefined ? 0 : (CURSOR_STYLES[cursorStyle] ?? 1);
  out += `\x1b[${style === 0 ? 0 : style + (cursorBlink === false ? 1 : 0)} q`;
  out += mode("?25", !core.coreService.isCursorHidden);
  const charsets = core._charsetService;
  for (const [level, designator] of ["(", ")"].entries()) {
    const lineDrawing = charsets._charsets[level]?.q === "─";
    out += `\x1b${designator}${lineDrawing ? "0" : "B"}`;
  }
  out += charsets.glevel === 1 ? "\x0e" : "\x0f";
  // Origin mode makes the cursor's row relative to the scroll region.
  const originTop = modes.originMode ? scroll.scrollTop : 0;
  out += mode("?6", modes.originMode);
  const cursorX = Math.min(buffer.cursorX - left, cols - 1);
  out += `\x1b[${buffer.cursorY - top - originTop + 1};${cursorX + 1}H`;
  out += `\x1b[${sgrOf(core._inputHandler._curAttrData)}m`;
  return out;
}
