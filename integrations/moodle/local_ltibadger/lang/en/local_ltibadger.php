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
/**
 * English strings of local_ltibadger.
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['clientid'] = 'Client ID of lti_badger';
$string['clientid_desc'] = 'The Client ID Moodle gave the lti_badger tool (Site administration > Plugins > Activity modules > External tool > Manage tools, the tool\'s details). lti_badger finds its registration by this site\'s address and this id.';
$string['endpoint'] = 'Event endpoint';
$string['endpoint_desc'] = 'The tool\'s event address, for example https://badges.example.edu/moodle/events. Leave empty to send nothing.';
$string['pluginname'] = 'lti_badger instant events';
$string['postfailed'] = 'lti_badger could not be reached; the events will be sent again.';
$string['privacy:metadata:lti_badger'] = 'To award badges at once, grades and completions are sent to lti_badger, the badge tool this site uses over LTI.';
$string['privacy:metadata:lti_badger:courseid'] = 'The course of the grade or completion.';
$string['privacy:metadata:lti_badger:grade'] = 'The grade, its maximum and whether it is hidden.';
$string['privacy:metadata:lti_badger:completion'] = 'The completion state of an activity or the course.';
$string['privacy:metadata:lti_badger:userid'] = 'Your user id, which is also the id Moodle sends to the tool in LTI launches.';
