// `/notes/:id` matches `/notes/7` with `{ id: "7" }`; `*` matches everything.
export const matcher = (pattern) => {
  if (pattern === "*") return () => ({});
  const parts = pattern.split("/");
  return (path) => {
    const segments = path.split("/");
    if (segments.length !== parts.length) return null;
    const params = {};
    for (const [index, part] of parts.entries()) {
      if (part.startsWith(":")) params[part.slice(1)] = segments[index];
      else if (part !== segments[index]) return null;
    }
    return params;
  };
};
