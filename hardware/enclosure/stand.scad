// e-lecteur counter stand: a weighted base, a column, and a tilted camera head facing the patient.
// Open in OpenSCAD, pick `board`, set the reading distance and the tilt, F6, export STL.
// Coordinates: x across the counter, y toward the patient, z up; lengths in mm, angles in degrees.

/* [Reading geometry] */
// Distance from the lens to where the patient holds the code (docs/optics.md: 15-25 cm; shorter reads smaller codes).
reading_distance = 200; // [100:5:300]
// Camera axis tilt above horizontal (0 = looks straight at the patient, 45 = looks up at a held phone).
tilt = 30; // [0:5:60]
// Lens height above the counter.
lens_height = 90; // [50:5:200]

/* [Board] */
// Board profile name (hardware/boards/NAME.json).
board = "esp32-cam-ai-thinker"; // [esp32-cam-ai-thinker, esp32-s3-eye, xiao-esp32s3-sense, pico-arducam-ov2640, openmv-h7-plus]

/* [Print] */
wall = 2.4;
clearance = 0.4;
// Hood length in front of the lens: shades the lens from ceiling lights (glare on phone screens).
hood = 12; // [0:1:30]
base_w = 90;
base_d = 110;
base_t = 8;
column_w = 24;
show_target = true;

// name, PCB width, PCB height, PCB+parts thickness, lens centre from PCB bottom, lens diameter
// (from the boards' datasheets; ArduCAM Mini 2MP Plus for the Pico: the Pico itself sits in the base).
boards = [
    ["esp32-cam-ai-thinker", 27.0, 40.5, 12.0, 29.0, 9.0],
    ["esp32-s3-eye",         27.5, 40.0, 13.0, 29.0, 9.0],
    ["xiao-esp32s3-sense",   21.0, 17.8, 15.0, 10.5, 9.0],
    ["pico-arducam-ov2640",  34.0, 24.0, 22.0, 12.0, 16.0],
    ["openmv-h7-plus",       45.0, 36.0, 30.0, 18.0, 16.0],
];

function spec(name) = boards[search([name], boards, 1, 0)[0]];
b = spec(board);
pcb_w = b[1]; pcb_h = b[2]; pcb_t = b[3]; lens_z = b[4]; lens_d = b[5];
head_w = pcb_w + 2 * (wall + clearance);
head_h = pcb_h + 2 * (wall + clearance);
head_t = pcb_t + wall + clearance;
pivot_z = lens_height - (lens_z - pcb_h / 2) * cos(tilt);

// Where the code should be held: echoed so the printed stand can be checked with a ruler.
lens_y = -(lens_z - pcb_h / 2) * sin(tilt);
target_y = lens_y + reading_distance * cos(tilt);
target_z = lens_height + reading_distance * sin(tilt);
echo(str("board ", board, ": hold the code ", target_y, " mm in front of the stand centre and ", target_z,
         " mm above the counter (tilt ", tilt, " deg, distance ", reading_distance, " mm)"));
assert(target_z < 400, "target above 40 cm: lower the tilt or the distance");
assert(pivot_z > base_t + head_h / 2 * sin(tilt), "lens_height too low for this board and tilt");

module base() {
    difference() {
        translate([-base_w / 2, -base_d / 2, 0]) cube([base_w, base_d, base_t]);
        // Pocket for coins or steel washers: weight keeps the stand still when a phone taps it.
        translate([-base_w / 2 + 10, -base_d / 2 + 10, 2]) cube([base_w - 20, base_d / 2 - 15, base_t]);
        // Cable channel to the back.
        translate([-4, -base_d / 2 - 1, -1]) cube([8, base_d / 2, 5]);
    }
}

module column() {
    translate([-column_w / 2, -column_w / 2 - head_t, 0]) cube([column_w, column_w, pivot_z]);
}

module head() {
    translate([0, 0, pivot_z]) rotate([tilt, 0, 0]) {
        difference() {
            translate([-head_w / 2, -head_t, -head_h / 2]) cube([head_w, head_t, head_h]);
            // PCB pocket, open at the back for the cable and the buttons.
            translate([-pcb_w / 2 - clearance, -head_t - 1, -pcb_h / 2 - clearance])
                cube([pcb_w + 2 * clearance, pcb_t + clearance + 1, pcb_h + 2 * clearance]);
            // Lens window.
            translate([0, -1, lens_z - pcb_h / 2]) rotate([-90, 0, 0]) cylinder(d = lens_d + 2, h = wall + 2, $fn = 48);
        }
        // Hood around the lens.
        if (hood > 0)
            translate([0, 0, lens_z - pcb_h / 2]) rotate([-90, 0, 0]) difference() {
                cylinder(d = lens_d + 2 + 2 * wall, h = hood, $fn = 48);
                translate([0, 0, -1]) cylinder(d1 = lens_d + 2, d2 = lens_d + 2 + hood, h = hood + 2, $fn = 48);
            }
    }
}

module target() {
    // Not printed: a 2 cm code at the reading distance, to check the geometry in the preview.
    %translate([0, target_y, target_z]) rotate([tilt, 0, 0]) cube([20, 0.5, 20], center = true);
}

base();
column();
head();
if (show_target) target();
