# Shared by perf/callgrind_parse.sh and perf/callgrind_parts.sh (sourced, not run).

# Calls made to functions whose name starts with $2, from a callgrind output file.
calls_to() {  # $1 = callgrind file, $2 = function name prefix
  python3 - "$1" "$2" <<'PY'
import re, sys
names, total, cur = {}, 0, None
for line in open(sys.argv[1], errors="replace"):
    # Names are compressed: "(id) name" the first time, "(id)" afterwards, shared by fn= and cfn=.
    m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        cur = names.get(m.group(2), "") if m.group(1) else None
        continue
    if line.startswith("calls=") and cur is not None and cur.startswith(sys.argv[2]):
        total += int(line.split("=", 1)[1].split()[0])
print(total)
PY
}
