// Names a caller may have misspelt: option names and operation ids. In JS because the same in
// Rust (edit distance, string lists) cost the module 2.5 KB.

// The first key of `obj` that is not one of `allowed` (names separated by ", "), and the allowed
// name it is nearest to: [key, nearest or undefined]; undefined when every key is known.
export function unknownKey(obj, allowed) {
  const names = allowed.split(", ");
  for (const key of Object.keys(obj)) {
    if (!names.includes(key)) return [key, nearest(key, allowed)];
  }
}

// Of `names` (separated by ", "), the one nearest to `word`: the same but for case and `-`/`_`
// (`memoio/startConversation` → `memoio/start-conversation`), or within two edits of it
// (`timeout` → `timeoutMs`), three for names of seven letters or more (`retry` → `retries`);
// undefined when none is that near.
export function nearest(word, names) {
  const plain = (s) => s.toLowerCase().replace(/[-_]/g, "");
  const w = plain(word);
  let best;
  let bestDistance = 4;
  for (const name of names.split(", ")) {
    const n = plain(name);
    // Levenshtein distance, one row at a time.
    const row = Array.from({ length: n.length + 1 }, (_, j) => j);
    for (let i = 0; i < w.length; i++) {
      let diagonal = row[0];
      row[0] = i + 1;
      for (let j = 0; j < n.length; j++) {
        const above = row[j + 1];
        row[j + 1] = Math.min(diagonal + (w[i] === n[j] ? 0 : 1), row[j] + 1, above + 1);
        diagonal = above;
      }
    }
    if (row[n.length] < bestDistance && row[n.length] <= (n.length < 7 ? 2 : 3)) {
      bestDistance = row[n.length];
      best = name;
    }
  }
  return best;
}
