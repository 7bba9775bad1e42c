#!/bin/sh
# Refresh the browser libraries the web UI serves from src/watchkeeper/web/static/vendor/.
# Run at development time only (needs node + npm and the npm registry); the built files
# are committed so `watchkeeper serve` never fetches anything at run time.
# Versions are pinned exactly: bump them here, rerun, review the diff, commit.
set -eu

MAPLIBRE=6.20.0
CYTOSCAPE=3.35.0
VIS_TIMELINE=8.5.4
WORLD_ATLAS=2.0.2
TOPOJSON_CLIENT=3.1.0

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/src/watchkeeper/web/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
echo '{"name":"watchkeeper-vendor","private":true}' > package.json
npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "maplibre-gl@$MAPLIBRE" "cytoscape@$CYTOSCAPE" "vis-timeline@$VIS_TIMELINE" \
  "world-atlas@$WORLD_ATLAS" "topojson-client@$TOPOJSON_CLIENT" >/dev/null

M=node_modules
rm -rf "$DEST"
mkdir -p "$DEST/LICENSES"

# MapLibre 6 is an ES module; the worker is a sibling file it finds by import.meta.url.
cp "$M/maplibre-gl/dist/maplibre-gl.mjs" "$M/maplibre-gl/dist/maplibre-gl-worker.mjs" \
   "$M/maplibre-gl/dist/maplibre-gl.css" "$DEST/"
# Drop the sourceMappingURL comments: the maps are not vendored and a missing map is a 404.
sed -i '/^\/\/# sourceMappingURL=/d' "$DEST/maplibre-gl.mjs" "$DEST/maplibre-gl-worker.mjs"
cp "$M/cytoscape/dist/cytoscape.min.js" "$DEST/"
cp "$M/vis-timeline/standalone/umd/vis-timeline-graph2d.min.js" \
   "$M/vis-timeline/styles/vis-timeline-graph2d.min.css" "$DEST/"
sed -i '/^\/\/# sourceMappingURL=/d' "$DEST/cytoscape.min.js" "$DEST/vis-timeline-graph2d.min.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$DEST/vis-timeline-graph2d.min.css"

cp "$M/maplibre-gl/LICENSE.txt" "$DEST/LICENSES/maplibre-gl.txt"
cp "$M/cytoscape/LICENSE" "$DEST/LICENSES/cytoscape.txt"
cp "$M/vis-timeline/LICENSE.MIT.txt" "$DEST/LICENSES/vis-timeline.MIT.txt"
cp "$M/vis-timeline/LICENSE.Apache-2.0.txt" "$DEST/LICENSES/vis-timeline.Apache-2.0.txt"
cp "$M/world-atlas/LICENSE" "$DEST/LICENSES/world-atlas.txt"
cp "$M/topojson-client/LICENSE" "$DEST/LICENSES/topojson-client.txt"

# Natural Earth 1:110m countries (public domain, via world-atlas) as GeoJSON, coordinates
# rounded to 1e-3 degrees (~100 m, far below the 110m scale's own precision) to stay small.
node -e '
const fs = require("fs");
const topo = require("topojson-client");
const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const fc = topo.feature(t, t.objects.countries);
const r = (c) => typeof c[0] === "number" ? [Math.round(c[0]*1e3)/1e3, Math.round(c[1]*1e3)/1e3] : c.map(r);
for (const f of fc.features) { f.geometry.coordinates = r(f.geometry.coordinates); f.properties = {name: f.properties.name, id: f.id}; delete f.id; }
fs.writeFileSync(process.argv[2], JSON.stringify(fc));
' "$M/world-atlas/countries-110m.json" "$DEST/countries-110m.geojson"

cat > "$DEST/VERSIONS.txt" <<EOF
maplibre-gl $MAPLIBRE (BSD-3-Clause)
cytoscape $CYTOSCAPE (MIT)
vis-timeline $VIS_TIMELINE standalone build (Apache-2.0 OR MIT)
world-atlas $WORLD_ATLAS countries-110m, Natural Earth data (public domain; package ISC)
topojson-client $TOPOJSON_CLIENT (ISC), used only by this script to convert TopoJSON to GeoJSON
EOF

du -ch "$DEST"/* "$DEST"/LICENSES/* | tail -1
