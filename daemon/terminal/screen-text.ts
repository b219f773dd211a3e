/**
 * A screen's lines with their colours and attributes, as `tmux capture-pane -e -p` prints them:
 * spaces as spaces, one LF between lines, every row kept (blank ones too), and no escape
 * sequence but SGR. The serializer that gives an attached terminal its first frame is made to be
 * replayed by a terminal (cursor moves, CRLF, modes), not read or piped.
 */
import type { IBuffer, IBufferCell, IBufferLine } from "@xterm/headless";

/** The SGR parameters of a colour: `base` 30 for the foreground, 40 for the background. */
function colourParams(mode: "rgb" | "palette" | "default", value: number, base: 30 | 40): string[] {
  if (mode === "default") return [];
  if (mode === "rgb")
    return [
      `${base + 8}`,
      "2",
      `${(value >> 16) & 0xff}`,
      `${(value >> 8) & 0xff}`,
      `${value & 0xff}`,
    ];
  if (value < 8) return [`${base + value}`];
  if (value < 16) return [`${base + 60 + value - 8}`];
  return [`${base + 8}`, "5", `${value}`];
}

/** The SGR that sets `cell`'s colours and attributes from a reset, or "" for the defaults. */
function cellStyle(cell: IBufferCell): string {
  if (cell.isAttributeDefault()) return "";
  const params: string[] = [];
  if (cell.isBold()) params.push("1");
  if (cell.isDim()) params.push("2");
  if (cell.isItalic()) params.push("3");
  if (cell.isUnderline()) params.push("4");
  if (cell.isBlink()) params.push("5");
  if (cell.isInverse()) params.push("7");
  if (cell.isInvisible()) params.push("8");
  if (cell.isStrikethrough()) params.push("9");
  if (cell.isOverline()) params.push("53");
  const mode = (rgb: boolean, palette: boolean) => (rgb ? "rgb" : palette ? "palette" : "default");
  params.push(...colourParams(mode(cell.isFgRGB(), cell.isFgPalette()), cell.getFgColor(), 30));
  params.push(...colourParams(mode(cell.isBgRGB(), cell.isBgPalette()), cell.getBgColor(), 40));
  return params.length === 0 ? "" : params.join(";");
}

/**
 * One line with SGR where its style changes; trailing blanks dropped (tmux drops them even when
 * coloured, unless `-N`), and a reset at its end if a style is still on, so that each line
 * stands alone.
 */
function styledLine(line: IBufferLine, cell: IBufferCell): string {
  let end = line.length;
  while (end > 0) {
    const chars = line.getCell(end - 1, cell)?.getChars() ?? "";
    if (chars !== "" && chars !== " ") break;
    end -= 1;
  }
  let out = "";
  let style = "";
  for (let x = 0; x < end; x++) {
    if (line.getCell(x, cell) === undefined) break;
    // The second half of a wide character.
    if (cell.getWidth() === 0) continue;
    const next = cellStyle(cell);
    if (next !== style) {
      // From the defaults a style is set as it is; from another, after a reset.
      out += next === "" ? "\x1b[0m" : style === "" ? `\x1b[${next}m` : `\x1b[0;${next}m`;
      style = next;
    }
    out += cell.getChars() || " ";
  }
  return style === "" ? out : `${out}\x1b[0m`;
}

/** Rows `first` to the last of `buffer`'s screen, styled, joined with LF. */
export function styledText(buffer: IBuffer, first: number, rows: number): string {
  const cell = buffer.getNullCell();
  const lines: string[] = [];
  for (let y = first; y < buffer.baseY + rows; y++) {
    const line = buffer.getLine(y);
    lines.push(line === undefined ? "" : styledLine(line, cell));
  }
  return lines.join("\n");
}
