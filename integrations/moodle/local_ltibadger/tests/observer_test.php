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

use Firebase\JWT\JWT;
use Firebase\JWT\Key;

/**
 * The observers send what lti_badger reads, signed with the site's LTI key.
 *
 * The batches asserted here are the ones tests/functional/progress/test_moodle_plugin.py in
 * lti_badger feeds to the tool. Run with Moodle's PHPUnit (see README.md).
 *
 * @package    local_ltibadger
 * @category   test
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 * @covers     \local_ltibadger\observer
 * @covers     \local_ltibadger\sender
 */
final class observer_test extends \advanced_testcase {

    /** @var string[] tokens the sender would have posted */
    private $sent = [];

    /** @var bool what the captured post answers */
    private $reachable = true;

    protected function setUp(): void {
        global $CFG;
        parent::setUp();
        $this->resetAfterTest();
        require_once($CFG->dirroot . '/mod/lti/upgradelib.php');
        require_once($CFG->libdir . '/completionlib.php');
        require_once($CFG->libdir . '/gradelib.php');
        mod_lti_verify_private_key();
        set_config('endpoint', 'https://badges.example.edu/moodle/events', 'local_ltibadger');
        set_config('clientid', 'tool-client-7', 'local_ltibadger');
        $this->sent = [];
        $this->reachable = true;
        sender::set_transport(function (string $token): bool {
            $this->sent[] = $token;
            return $this->reachable;
        });
    }

    protected function tearDown(): void {
        sender::set_transport(null);
        parent::tearDown();
    }

    /**
     * The claims of a captured batch, checked with the public half of the site's LTI key.
     *
     * @param string $token
     * @return array
     */
    private function claims(string $token): array {
        $public = openssl_pkey_get_details(openssl_pkey_get_private(get_config('mod_lti', 'privatekey')))['key'];
        return json_decode(json_encode(JWT::decode($token, new Key($public, 'RS256'))), true);
    }

    /**
     * Every event record sent so far.
     *
     * @return array
     */
    private function events(): array {
        $out = [];
        foreach ($this->sent as $token) {
            $out = array_merge($out, $this->claims($token)['events']);
        }
        return $out;
    }

    public function test_batch_is_signed_for_the_registration_and_short_lived(): void {
        global $CFG;
        $first = sender::token([['event' => '\\core\\event\\course_completed']], 1796000000);
        $second = sender::token([['event' => '\\core\\event\\course_completed']], 1796000000);
        $header = json_decode(JWT::urlsafeB64Decode(explode('.', $first)[0]), true);
        $this->assertSame('RS256', $header['alg']);
        $this->assertSame(get_config('mod_lti', 'kid'), $header['kid']);
        JWT::$timestamp = 1796000010;
        try {
            $claims = $this->claims($first);
            $this->assertNotSame($claims['jti'], $this->claims($second)['jti']);
        } finally {
            JWT::$timestamp = null;
        }
        $this->assertSame($CFG->wwwroot, $claims['iss']);
        $this->assertSame('tool-client-7', $claims['aud']);
        $this->assertLessThanOrEqual(300, $claims['exp'] - $claims['iat']);
    }

    public function test_an_activity_grade_is_sent(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course();
        $user = $generator->create_and_enrol($course, 'student');
        $assign = $generator->create_module('assign', ['course' => $course->id, 'grade' => 20, 'name' => 'Essay']);
        grade_update('mod/assign', $course->id, 'mod', 'assign', $assign->id, 0,
            [$user->id => ['userid' => $user->id, 'rawgrade' => 15]]);
        $graded = array_values(array_filter($this->events(), fn($e) => $e['cmid'] === (int) $assign->cmid));
        $this->assertCount(1, $graded);
        $this->assertSame([
            'event' => '\\core\\event\\user_graded', 'courseid' => (int) $course->id, 'userid' => (int) $user->id,
            'cmid' => (int) $assign->cmid, 'name' => 'Essay', 'modname' => 'assign', 'score' => 15.0, 'max' => 20.0,
            'hidden' => false,
        ], array_diff_key($graded[0], ['time' => 0]));
        $this->assertIsInt($graded[0]['time']);
    }

    public function test_activity_completion_is_sent_with_its_state(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course(['enablecompletion' => 1]);
        $user = $generator->create_and_enrol($course, 'student');
        $page = $generator->create_module('page', ['course' => $course->id, 'name' => 'Reading',
            'completion' => COMPLETION_TRACKING_MANUAL]);
        $cm = get_coursemodule_from_id('page', $page->cmid);
        (new \completion_info($course))->update_state($cm, COMPLETION_COMPLETE, $user->id);
        $events = $this->events();
        $this->assertCount(1, $events);
        $this->assertSame('\\core\\event\\course_module_completion_updated', $events[0]['event']);
        $this->assertSame([(int) $course->id, (int) $user->id, (int) $page->cmid, 'Reading', 'page', COMPLETION_COMPLETE],
            [$events[0]['courseid'], $events[0]['userid'], $events[0]['cmid'], $events[0]['name'],
             $events[0]['modname'], $events[0]['state']]);
    }

    public function test_course_completion_is_sent(): void {
        $generator = $this->getDataGenerator();
        $course = $generator->create_course(['enablecompletion' => 1]);
        $user = $generator->create_and_enrol($course, 'student');
        (new \completion_completion(['course' => $course->id, 'userid' => $user->id]))->mark_complete();
        $done = array_values(array_filter($this->events(),
            fn($e) => $e['event'] === '\\core\\event\\course_completed'));
        $this->assertCount(1, $done);
        $this->assertSame([(int) $course->id, (int) $user->id], [$done[0]['courseid'], $done[0]['userid']]);
    }

    public function test_nothing_is_sent_until_configured(): void {
        set_config('endpoint', '', 'local_ltibadger');
        $generator = $this->getDataGenerator();
        $course = $generator->create_course(['enablecompletion' => 1]);
        $user = $generator->create_and_enrol($course, 'student');
        (new \completion_completion(['course' => $course->id, 'userid' => $user->id]))->mark_complete();
        $this->assertSame([], $this->sent);
    }

    public function test_a_failed_post_is_retried_by_an_adhoc_task(): void {
        $this->reachable = false;
        $generator = $this->getDataGenerator();
        $course = $generator->create_course(['enablecompletion' => 1]);
        $user = $generator->create_and_enrol($course, 'student');
        (new \completion_completion(['course' => $course->id, 'userid' => $user->id]))->mark_complete();
        $this->assertCount(1, \core\task\manager::get_adhoc_tasks('\\local_ltibadger\\task\\retry_post'));
        $this->reachable = true;
        $this->sent = [];
        $this->runAdhocTasks('\\local_ltibadger\\task\\retry_post');
        $this->assertCount(1, $this->sent);
        $this->assertSame('\\core\\event\\course_completed', $this->claims($this->sent[0])['events'][0]['event']);
        $this->assertCount(0, \core\task\manager::get_adhoc_tasks('\\local_ltibadger\\task\\retry_post'));
    }
}
