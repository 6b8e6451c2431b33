// CSV as RFC 4180 writes it: comma-separated, a header row, fields optionally in double quotes (a
// doubled quote inside is one quote; quoted fields may hold commas and line breaks), CRLF or LF.
// Cells keep their line and column so a bad value is reported where an editor shows it.
import { StepError } from '../core/errors.js';

export interface CsvCell {
  text: string;
  /** 1-based line and column of the cell's first character. */
  line: number;
  column: number;
}

export interface CsvTable {
  header: string[];
  rows: CsvCell[][];
}

/** Parses `text` (the content of `file`, which only labels errors). Every row must have the header's width. */
export function parseCsv(text: string, file: string): CsvTable {
  const records: CsvCell[][] = [];
  let row: CsvCell[] = [];
  let line = 1;
  let col = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 byte-order mark is not part of the first name
  const n = text.length;
  let atRowStart = true;
  while (i < n) {
    const startLine = line;
    const startCol = col;
    let value = '';
    if (text[i] === '"') {
      i++;
      col++;
      for (;;) {
        if (i >= n) throw new StepError(`${file}:${startLine}:${startCol}: a quoted field is not closed`, 'close it with " (write "" for a quote inside)');
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            col += 2;
            continue;
          }
          i++;
          col++;
          break;
        }
        value += c;
        i++;
        if (c === '\n') {
          line++;
          col = 1;
        } else col++;
      }
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        throw new StepError(`${file}:${line}:${col}: unexpected ${JSON.stringify(text[i])} after a quoted field`, 'a quoted field ends at a comma or the end of the line');
      }
    } else {
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        value += text[i];
        i++;
        col++;
      }
    }
    row.push({ text: value, line: startLine, column: startCol });
    atRowStart = false;
    if (text[i] === ',') {
      i++;
      col++;
      if (i >= n) row.push({ text: '', line, column: col });
      continue;
    }
    // End of a record: \r\n, \n, \r or the end of the text.
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    col = 1;
    records.push(row);
    row = [];
    atRowStart = true;
  }
  if (!atRowStart) records.push(row);
  // Blank lines (one empty cell) are not rows: a trailing newline or an empty line at the end is common.
  const nonBlank = records.filter((r) => !(r.length === 1 && r[0]!.text.trim() === ''));
  if (nonBlank.length === 0) throw new StepError(`${file}: the file is empty`, 'a CSV dataset needs a header row naming the columns, then one row per example');
  const [head, ...rows] = nonBlank;
  const header = head!.map((c) => c.text.trim());
  for (const r of rows) {
    if (r.length !== header.length) {
      throw new StepError(`${file}:${r[0]!.line}:1: this row has ${r.length} fields, the header has ${header.length}`);
    }
  }
  return { header, rows };
}
