<?php
// This file is part of local_ltibadger, a Moodle plugin of lti_badger.
//
// local_ltibadger is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// local_ltibadger is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with local_ltibadger.  If not, see <https://www.gnu.org/licenses/>.
namespace local_ltibadger;

/**
 * Turns Moodle's grade and completion events into the plain records lti_badger reads.
 *
 * Each record names the course and user by Moodle id (the LTI context id and `sub` Moodle
 * sends in launches) and the activity by course module id, as the tool's moodle-ws pull does.
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {

    /**
     * A grade of an activity or the course total changed.
     *
     * @param \core\event\user_graded $event
     */
    public static function user_graded(\core\event\user_graded $event): void {
        if (!sender::is_configured()) {
            return;
        }
        $grade = $event->get_grade();
        $item = $grade->load_grade_item();
        if ($item->itemtype === 'course') {
            $cmid = null;
            $name = null;
            $modname = null;
        } else if ($item->itemtype === 'mod') {
            $cm = get_coursemodule_from_instance($item->itemmodule, $item->iteminstance, $item->courseid);
            if (!$cm) {
                return;
            }
            $cmid = (int) $cm->id;
            $name = $item->get_name();
            $modname = $item->itemmodule;
        } else {
            return; // Categories and manual items are not activities.
        }
        sender::send([[
            'event' => '\\core\\event\\user_graded',
            'courseid' => (int) $event->courseid,
            'userid' => (int) $event->relateduserid,
            'cmid' => $cmid,
            'name' => $name,
            'modname' => $modname,
            'score' => $grade->finalgrade === null ? null : (float) $grade->finalgrade,
            'max' => (float) $item->grademax,
            'hidden' => (bool) ($grade->is_hidden() || $item->is_hidden()),
            'time' => (int) $event->timecreated,
        ]]);
    }

    /**
     * An activity's completion state changed (0 incomplete, 1 complete, 2 passed, 3 failed).
     *
     * @param \core\event\course_module_completion_updated $event
     */
    public static function course_module_completion_updated(\core\event\course_module_completion_updated $event): void {
        if (!sender::is_configured()) {
            return;
        }
        $data = $event->get_record_snapshot('course_modules_completion', $event->objectid);
        $cm = get_fast_modinfo($event->courseid, -1)->get_cm($event->contextinstanceid);
        sender::send([[
            'event' => '\\core\\event\\course_module_completion_updated',
            'courseid' => (int) $event->courseid,
            'userid' => (int) $event->relateduserid,
            'cmid' => (int) $event->contextinstanceid,
            'name' => $cm->name,
            'modname' => $cm->modname,
            'state' => (int) $data->completionstate,
            'time' => (int) $event->timecreated,
        ]]);
    }

    /**
     * The user completed the course.
     *
     * @param \core\event\course_completed $event
     */
    public static function course_completed(\core\event\course_completed $event): void {
        if (!sender::is_configured()) {
            return;
        }
        sender::send([[
            'event' => '\\core\\event\\course_completed',
            'courseid' => (int) $event->courseid,
            'userid' => (int) $event->relateduserid,
            'time' => (int) $event->timecreated,
        ]]);
    }
}
