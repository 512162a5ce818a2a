package io.switchboard.router.email;

import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.support.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Broken mail must still become a readable message: every fixture cut short at many points and
 * with bytes damaged at random normalizes without an unexpected exception.
 */
class EmailNormalizerRobustnessTest {

    private final EmailNormalizer normalizer = new EmailNormalizer();

    static final String[] FIXTURES = {
            "attachment_only_text_csv_no_body", "autoreply_apple_vacation_in_reply_to", "autoreply_auto_submitted_ooo",
            "autoreply_exchange_no_auto_submitted_header", "autoreply_x_autoreply_utf8_base64_arabic_chatwoot",
            "bounce_dsn_amazonses", "bounce_dsn_gmail_empty_delivery_status_chatwoot", "bounce_dsn_rfc822_headers_mailsite",
            "bounce_dsn_yandex_ru", "bounce_nondsn_mailru_ru_8bit", "html_only_chatwoot", "koi8r_rfc2047_attachment_filename",
            "malformed_bad_final_boundary", "malformed_empty_date_header_chatwoot",
            "malformed_missing_inner_boundary_no_date_no_from", "malformed_no_closing_boundary_part",
            "multipart_alternative_related_inline_png", "reply_qp_utf8_ru_forwarded_rfc822_encoded_filename",
            "thread_rfc5322_1_hello", "thread_rfc5322_2_reply", "thread_rfc5322_3_reply_to_reply",
            "utf8_base64_html_ru_inline_jpeg_cid", "windows1251_8bit_with_forwarded_utf8_rfc822_ru",
            "windows1251_b_encoded_from_bad_date_year3609"};

    @Test
    void truncatedAndDamagedFixturesNeverThrowAnythingButMalformed() throws Exception {
        // hundreds of "recovered from broken MIME" warnings are expected here
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(EmailNormalizer.class.getName());
        java.util.logging.Level before = jul.getLevel();
        jul.setLevel(java.util.logging.Level.OFF);
        try {
            damageEveryFixture();
        } finally {
            jul.setLevel(before);
        }
    }

    private void damageEveryFixture() {
        String[] names = FIXTURES;
        Random random = new Random(42);
        List<String> failures = new ArrayList<>();
        int customerMessages = 0;
        for (String name : names) {
            byte[] raw = Fixtures.bytes("email/" + name + ".eml");
            for (int cut = 40; cut < raw.length; cut += Math.max(1, raw.length / 25)) {
                customerMessages += run(name + " cut at " + cut, Arrays.copyOf(raw, cut), failures);
            }
            for (int round = 0; round < 20; round++) {
                byte[] damaged = raw.clone();
                for (int i = 0; i < 8; i++) {
                    int from = Math.min(100, damaged.length / 2); // keep the first header line intact
                    damaged[from + random.nextInt(damaged.length - from)] = (byte) random.nextInt(256);
                }
                customerMessages += run(name + " damaged " + round, damaged, failures);
            }
        }
        assertThat(failures).isEmpty();
        assertThat(customerMessages).isGreaterThan(100);
    }

    private int run(String label, byte[] raw, List<String> failures) {
        try {
            List<DomainChange> changes = normalizer.normalize(EmailFixtures.envelope(raw));
            if (changes.isEmpty()) {
                failures.add(label + ": no change at all");
            }
            return changes.get(0) instanceof CustomerMessage ? 1 : 0;
        } catch (MalformedEventException e) {
            return 0;
        } catch (RuntimeException e) {
            failures.add(label + ": " + e);
            return 0;
        }
    }
}
