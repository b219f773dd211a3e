/**
 * The output generator of the throughput benchmark, the same command for the baseline and the
 * daemon: it turns echo off, prints a ready mark, waits for one line of input (so the timing
 * and the attached client start before the first byte), then writes {@link GENERATOR_BYTES}.
 */

/** What the generator writes once started: 50 MB. */
export const GENERATOR_BYTES = 50 * 1024 * 1024;
/** 63 characters and a newline: 64 bytes, so the output is whole lines. */
const LINE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.";
/** Printed before waiting for input. */
export const READY_MARK = "READY>";

export const generatorCommand = [
  "sh",
  "-c",
  `stty -echo; printf '${READY_MARK}'; read _; yes '${LINE}' | head -c ${GENERATOR_BYTES}`,
];

/** The bytes a terminal delivers for the generator's output: each "\n" becomes "\r\n". */
export const GENERATOR_TERMINAL_BYTES = GENERATOR_BYTES + GENERATOR_BYTES / (LINE.length + 1);
