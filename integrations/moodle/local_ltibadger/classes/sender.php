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

/**
 * Signs a batch of events with the site's LTI key and posts it to lti_badger.
 *
 * The tool knows which registration sent the batch from `iss` (this site's wwwroot, the LTI
 * issuer) and `aud` (the tool's client id here), and checks the signature against the key set
 * Moodle publishes at mod/lti/certs.php. A batch lives LIFETIME seconds and has a fresh `jti`,
 * so a copy cannot be replayed. A post that fails (network, 5xx, 429) is retried by an ad hoc
 * task; a refusal (other 4xx) is logged and dropped, since sending it again would not help.
 *
 * @package    local_ltibadger
 * @copyright  2026 lti_badger contributors
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class sender {

    /** Seconds between iat and exp of a batch (the tool accepts at most 300). */
    const LIFETIME = 60;

    /** Seconds to wait for the tool: the observer runs at the end of a user's request. */
    const TIMEOUT = 5;

    /** @var callable|null Replaces the HTTP post in unit tests: fn(string $token): bool. */
    private static $transport = null;

    /**
     * Whether an administrator has set the tool's endpoint and client id.
     *
     * @return bool
     */
    public static function is_configured(): bool {
        return (string) get_config('local_ltibadger', 'endpoint') !== ''
            && (string) get_config('local_ltibadger', 'clientid') !== '';
    }

    /**
     * The signed batch: a compact JWS (RS256) with the site's LTI key and its kid.
     *
     * @param array $events records built by the observer
     * @param int|null $now Unix time, now by default
     * @return string
     */
    public static function token(array $events, ?int $now = null): string {
        global $CFG;
        $now = $now ?? time();
        $payload = [
            'iss' => $CFG->wwwroot,
            'aud' => (string) get_config('local_ltibadger', 'clientid'),
            'iat' => $now,
            'exp' => $now + self::LIFETIME,
            'jti' => bin2hex(random_bytes(16)),
            'events' => $events,
        ];
        return JWT::encode($payload, get_config('mod_lti', 'privatekey'), 'RS256', get_config('mod_lti', 'kid'));
    }

    /**
     * Post the events now; when that fails, leave them to an ad hoc task that retries.
     *
     * @param array $events
     */
    public static function send(array $events): void {
        if (!self::post($events)) {
            $task = new task\retry_post();
            $task->set_custom_data(['events' => $events]);
            \core\task\manager::queue_adhoc_task($task);
        }
    }

    /**
     * One signed post of the events.
     *
     * @param array $events
     * @return bool false when it should be tried again later
     */
    public static function post(array $events): bool {
        global $CFG;
        $token = self::token($events);
        if (self::$transport !== null) {
            return (bool) call_user_func(self::$transport, $token);
        }
        require_once($CFG->libdir . '/filelib.php');
        $curl = new \curl();
        $curl->setHeader(['Content-Type: application/jwt', 'Accept: application/json']);
        $curl->post((string) get_config('local_ltibadger', 'endpoint'), $token,
            ['CURLOPT_TIMEOUT' => self::TIMEOUT, 'CURLOPT_CONNECTTIMEOUT' => self::TIMEOUT]);
        $status = (int) ($curl->get_info()['http_code'] ?? 0);
        if ($status >= 200 && $status < 300) {
            return true;
        }
        if ($status >= 400 && $status < 500 && $status !== 429) {
            debugging('lti_badger refused an event batch (HTTP ' . $status . '): check the endpoint and client id '
                . 'in the local_ltibadger settings', DEBUG_NORMAL);
            return true;
        }
        return false;
    }

    /**
     * Unit tests only: capture tokens instead of posting them (null restores HTTP).
     *
     * @param callable|null $transport
     */
    public static function set_transport(?callable $transport): void {
        self::$transport = $transport;
    }
}
