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
 * Where lti_badger receives the events, and its client id on this site.
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if ($hassiteconfig) {
    $settings = new admin_settingpage('local_ltibadger', get_string('pluginname', 'local_ltibadger'));
    $settings->add(new admin_setting_configtext('local_ltibadger/endpoint', get_string('endpoint', 'local_ltibadger'),
        get_string('endpoint_desc', 'local_ltibadger'), '', PARAM_URL));
    $settings->add(new admin_setting_configtext('local_ltibadger/clientid', get_string('clientid', 'local_ltibadger'),
        get_string('clientid_desc', 'local_ltibadger'), '', PARAM_RAW_TRIMMED));
    $ADMIN->add('localplugins', $settings);
}
