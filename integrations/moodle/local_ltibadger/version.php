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
 * Version of local_ltibadger.
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_ltibadger';
$plugin->version = 2026120700;
$plugin->requires = 2023100900; // Moodle 4.3.
$plugin->maturity = MATURITY_BETA;
$plugin->release = '0.1.0';
$plugin->dependencies = ['mod_lti' => ANY_VERSION];
