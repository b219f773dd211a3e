/**
 * The largest terminal side, in columns or rows, the daemon accepts. The CLI imports it too, to
 * refuse a bad `resize` as misuse before asking the daemon.
 */
export const MAX_DIMENSION = 1000;
