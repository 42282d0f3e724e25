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
namespace local_ltibadger\task;

use local_ltibadger\sender;

/**
 * Posts events whose first post failed; Moodle retries a failed ad hoc task with back-off.
 * Each attempt is signed afresh (new iat, exp and jti).
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class retry_post extends \core\task\adhoc_task {

    /**
     * Post again, or fail so that Moodle tries later.
     */
    public function execute() {
        $events = json_decode(json_encode($this->get_custom_data()->events), true);
        if (!sender::post($events)) {
            throw new \moodle_exception('postfailed', 'local_ltibadger');
        }
    }
}
