package io.switchboard.router.email;

import io.switchboard.contract.Channel;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One assertion set per fixture in fixtures/email (see SOURCES.md there), then threading and text rules. */
class EmailNormalizerTest {

    private final EmailNormalizer normalizer = new EmailNormalizer();

    private List<DomainChange> run(String fixture) throws MalformedEventException {
        return normalizer.normalize(EmailFixtures.envelope(fixture + ".eml"));
    }

    private CustomerMessage message(String fixture) throws MalformedEventException {
        List<DomainChange> changes = run(fixture);
        assertThat(changes).hasSize(1).first().isInstanceOf(CustomerMessage.class);
        return (CustomerMessage) changes.get(0);
    }

    private DeliveryReceipt bounce(String fixture) throws MalformedEventException {
        List<DomainChange> changes = run(fixture);
        assertThat(changes).hasSize(1).first().isInstanceOf(DeliveryReceipt.class);
        DeliveryReceipt r = (DeliveryReceipt) changes.get(0);
        assertThat(r.status()).isEqualTo("failed");
        assertThat(r.watermark()).isNotNull();
        return r;
    }

    private static List<String> names(CustomerMessage m) {
        return m.attachments().stream().map(Attachment::name).toList();
    }

    /** Every file in fixtures/email has its test here (a fixture added later fails this until it has one). */
    @Test
    void everyFixtureIsAssertedHere() throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("../inbox-contract/src/test/resources/fixtures/email");
        try (var files = java.nio.file.Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString().replace(".eml", "")).sorted().toList())
                    .containsExactlyElementsOf(ASSERTED.stream().sorted().toList());
        }
    }

    static final List<String> ASSERTED = List.of("thread_rfc5322_1_hello", "thread_rfc5322_2_reply", "thread_rfc5322_3_reply_to_reply",
            "html_only_chatwoot", "multipart_alternative_related_inline_png", "attachment_only_text_csv_no_body",
            "koi8r_rfc2047_attachment_filename", "utf8_base64_html_ru_inline_jpeg_cid", "windows1251_8bit_with_forwarded_utf8_rfc822_ru",
            "reply_qp_utf8_ru_forwarded_rfc822_encoded_filename", "windows1251_b_encoded_from_bad_date_year3609",
            "malformed_bad_final_boundary", "malformed_empty_date_header_chatwoot", "malformed_missing_inner_boundary_no_date_no_from",
            "malformed_no_closing_boundary_part", "autoreply_auto_submitted_ooo", "autoreply_exchange_no_auto_submitted_header",
            "autoreply_apple_vacation_in_reply_to", "autoreply_x_autoreply_utf8_base64_arabic_chatwoot", "bounce_dsn_amazonses",
            "bounce_dsn_gmail_empty_delivery_status_chatwoot", "bounce_dsn_rfc822_headers_mailsite", "bounce_dsn_yandex_ru",
            "bounce_nondsn_mailru_ru_8bit");

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.EMAIL)).get().isInstanceOf(EmailNormalizer.class);
    }

    // ------------------------------------------------------------ plain, HTML and MIME shapes

    @Test
    void threadRoot() throws Exception {
        CustomerMessage m = message("thread_rfc5322_1_hello");
        assertThat(m.text()).isEqualTo("This is a message just to say hello.\nSo, \"Hello\".");
        assertThat(m.sender()).isEqualTo(new Identity("email", "jdoe@machine.example"));
        assertThat(m.senderName()).isEqualTo("John Doe");
        assertThat(m.subject()).isEqualTo("Saying Hello");
        assertThat(m.sentAt()).isEqualTo(Instant.parse("1997-11-21T15:55:06Z"));
        assertThat(m.messageKey()).isEqualTo("email:default:1234@local.machine.example");
        assertThat(m.externalId()).isEqualTo("1234@local.machine.example");
        assertThat(m.thread().threadKey()).isEqualTo("email:default:1234@local.machine.example");
        assertThat(m.thread().lookupKeys()).isEmpty();
        assertThat(m.thread().reopenWindow()).isNull();
        assertThat(m.replyAddress()).isEqualTo(Map.of("email", "jdoe@machine.example"));
        assertThat(m.attachments()).isEmpty();
        assertThat(m.automatic()).isFalse();
    }

    @Test
    void replyThreadsByInReplyToAndAnswersToReplyTo() throws Exception {
        CustomerMessage m = message("thread_rfc5322_2_reply");
        assertThat(m.text()).isEqualTo("This is a reply to your hello.");
        assertThat(m.sender().value()).isEqualTo("mary@example.net");
        assertThat(m.subject()).isEqualTo("Re: Saying Hello");
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:1234@local.machine.example");
        assertThat(m.replyToExternalId()).isEqualTo("1234@local.machine.example");
        assertThat(m.replyAddress()).isEqualTo(Map.of("email", "smith@home.example"));
        assertThat(m.senderName()).isEqualTo("Mary Smith");
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void replyToReplyLooksUpEveryReferenceNewestFirst() throws Exception {
        CustomerMessage m = message("thread_rfc5322_3_reply_to_reply");
        assertThat(m.text()).isEqualTo("This is a reply to your reply.");
        assertThat(m.sender().value()).isEqualTo("jdoe@machine.example");
        assertThat(m.subject()).isEqualTo("Re: Saying Hello");
        assertThat(m.attachments()).isEmpty();
        assertThat(m.thread().lookupKeys())
                .containsExactly("email:default:3456@example.net", "email:default:1234@local.machine.example");
    }

    @Test
    void htmlOnlyBecomesText() throws Exception {
        CustomerMessage m = message("html_only_chatwoot");
        assertThat(m.text()).isEqualTo("This is html only mail");
        assertThat(m.sender().value()).isEqualTo("tejaswini@ex.com");
        assertThat(m.senderName()).isEqualTo("tejaswini@ex.com");
        assertThat(m.subject()).isEqualTo("test html only mail");
        assertThat(m.thread().lookupKeys()).isEmpty();
        assertThat(m.attachments()).isEmpty();
        assertThat(m.automatic()).isFalse();
    }

    @Test
    void alternativePrefersPlainTextAndKeepsTheInlineImage() throws Exception {
        CustomerMessage m = message("multipart_alternative_related_inline_png");
        assertThat(m.text()).isEqualTo("Test of text section");
        assertThat(m.sender().value()).isEqualTo("james@makita.skynet");
        assertThat(m.subject()).isEqualTo("MIME test 1");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("favicon.png");
            assertThat(a.contentType()).isEqualTo("image/png");
            assertThat(a.kind()).isEqualTo("inline");
            assertThat(a.size()).isEqualTo(687L);
            assertThat(m.contents().get(a.ref())).hasSize(687).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        });
    }

    @Test
    void attachmentOnlyMessageHasNoTextAndOneFile() throws Exception {
        CustomerMessage m = message("attachment_only_text_csv_no_body");
        assertThat(m.text()).isNull();
        assertThat(m.sender().value()).isEqualTo("alice@test.com");
        assertThat(m.subject()).isEqualTo("Test");
        assertThat(names(m)).containsExactly("test.csv");
        Attachment a = m.attachments().get(0);
        assertThat(a.contentType()).isEqualTo("text/plain");
        assertThat(new String(m.contents().get(a.ref()), StandardCharsets.UTF_8)).isEqualTo("Test;Test\n");
    }

    @Test
    void koi8rEncodedWordInUnquotedFileName() throws Exception {
        CustomerMessage m = message("koi8r_rfc2047_attachment_filename");
        assertThat(names(m)).containsExactly("Список.doc");
        assertThat(m.subject()).isEqualTo("A simple subject");
        assertThat(m.text()).isNull();
        // no From and no Date: still a readable message, dated by its arrival, with no reply address
        assertThat(m.sender().value()).isEqualTo("unknown-sender@switchboard.invalid");
        assertThat(m.sentAt()).isEqualTo(EmailFixtures.RECEIVED);
        assertThat(m.replyAddress()).isEmpty();
        assertThat(m.messageKey()).startsWith("email:default:").endsWith("@switchboard.invalid");
    }

    @Test
    void utf8Base64HtmlWithLinksKeptAndCidImage() throws Exception {
        CustomerMessage m = message("utf8_base64_html_ru_inline_jpeg_cid");
        assertThat(m.subject()).isEqualTo("Соберите всю почту в этот ящик");
        assertThat(m.sender().value()).isEqualTo("hello@yandex.ru");
        assertThat(m.senderName()).isEqualTo("Яндекс");
        assertThat(m.text()).startsWith("Здравствуйте!\n\nЕсли у Вас уже есть почтовые ящики")
                .contains("настройте сбор почты (https://mail.yandex.ru/neo2/#setup/collectors)")
                .doesNotContain("<", "&nbsp;");
        assertThat(names(m)).containsExactly("collector.jpg");
        assertThat(m.attachments().get(0).contentType()).isEqualTo("image/jpeg");
        assertThat(m.replyAddress()).isEqualTo(Map.of("email", "foma@company.ru"));
        assertThat(m.sentAt()).isEqualTo(EmailFixtures.RECEIVED);
    }

    @Test
    void windows1251BodySignatureStrippedAndForwardedMessageAttached() throws Exception {
        CustomerMessage m = message("windows1251_8bit_with_forwarded_utf8_rfc822_ru");
        assertThat(m.text()).isEqualTo("SCR\n\n/\nS19\n07FEB\nwat");
        assertThat(m.sender().value()).isEqualTo("k1@yandex.ru");
        assertThat(m.senderName()).isEqualTo("Каукин Владимир");
        assertThat(m.subject()).isEqualTo("S19 IZM A7-342");
        assertThat(names(m)).containsExactly("Message01.eml");
        assertThat(m.attachments().get(0).contentType()).isEqualTo("message/rfc822");
        assertThat(new String(m.contents().get(m.attachments().get(0).ref()), StandardCharsets.UTF_8))
                .contains("Message-ID: <09ccd226-f9e9-77e0-e456-3490e024d16e@com.ru>").contains("Добрый");
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:1333139463.20190207083243@com.ru");
    }

    @Test
    void emptyReplyWithForwardedQpMessageShowsTheForwardedTextAndBrokenEncodedFileName() throws Exception {
        CustomerMessage m = message("reply_qp_utf8_ru_forwarded_rfc822_encoded_filename");
        assertThat(m.subject()).isEqualTo("статус");
        assertThat(m.sender().value()).isEqualTo("i.kor@company.ru");
        assertThat(names(m)).containsExactly("Contract 25 04 2020.docx");
        assertThat(m.text()).startsWith("Forwarded message: статус").contains("Новый заказ №28922")
                .contains("Клиент Ковчег (Гусев Дмитрий)");
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:20171011085432.15374.20485@web.hades.company");
    }

    @Test
    void windows1251EncodedSenderNameUnquotedBoundaryAndAbsurdDate() throws Exception {
        CustomerMessage m = message("windows1251_b_encoded_from_bad_date_year3609");
        assertThat(m.senderName()).isEqualTo("Атиковa");
        assertThat(m.sender().value()).isEqualTo("yusuf75thu@auracom.net");
        assertThat(m.subject()).isEqualTo("[0]: XXXXXXX XXXXX XXXXX !");
        assertThat(m.sentAt()).isEqualTo(EmailFixtures.RECEIVED);
        assertThat(m.text()).isEqualTo("Filter2: This message has been scanned for viruses and\n"
                + "dangerous content by MailScanner, and is\nbelieved to be clean.");
        assertThat(m.attachments()).isEmpty();
    }

    // ------------------------------------------------------------ broken messages

    @Test
    void badFinalBoundaryStillGivesTextAndAttachment() throws Exception {
        CustomerMessage m = message("malformed_bad_final_boundary");
        assertThat(m.text()).isEqualTo("A text section");
        assertThat(m.sender().value()).isEqualTo("james@makita.skynet");
        assertThat(m.subject()).isEqualTo("Attachment");
        assertThat(names(m)).containsExactly("foo_9E5D72.zip");
        assertThat(new String(m.contents().get(m.attachments().get(0).ref()), StandardCharsets.UTF_8)).isEqualTo("<html>\n");
    }

    @Test
    void emptyDateHeaderUsesArrivalAndAMessageIdFromTheBytes() throws Exception {
        CustomerMessage m = message("malformed_empty_date_header_chatwoot");
        assertThat(m.text()).isEqualTo("text only mail");
        assertThat(m.sender().value()).isEqualTo("testemail@gmail.com");
        assertThat(m.subject()).isEqualTo("test text only mail");
        assertThat(m.sentAt()).isEqualTo(EmailFixtures.RECEIVED);
        assertThat(m.attachments()).isEmpty();
        assertThat(m.messageKey()).isEqualTo(message("malformed_empty_date_header_chatwoot").messageKey());
    }

    @Test
    void missingInnerBoundaryReadsTheInnerPartAsText() throws Exception {
        CustomerMessage m = message("malformed_missing_inner_boundary_no_date_no_from");
        assertThat(m.text()).isEqualTo("Foo\n\nAAA");
        assertThat(m.subject()).isNull();
        assertThat(m.sender().value()).isEqualTo("unknown-sender@switchboard.invalid");
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void noClosingBoundaryQuotedPrintableHtml() throws Exception {
        CustomerMessage m = message("malformed_no_closing_boundary_part");
        assertThat(m.text()).isEqualTo("Hello,");
        assertThat(m.sender().value()).isEqualTo("unknown-sender@switchboard.invalid");
        assertThat(m.subject()).isNull();
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void brokenMessagesTellAgentsWhatWasWrong() throws Exception {
        assertThat(message("malformed_bad_final_boundary").meta().get("warnings")).contains("closing boundary");
        assertThat(message("malformed_no_closing_boundary_part").meta().get("warnings"))
                .contains("closing boundary", "no Date", "no sender address", "no Message-ID");
        assertThat(message("malformed_missing_inner_boundary_no_date_no_from").meta().get("warnings"))
                .contains("part multipart/alternative unreadable", "no Date", "no sender address", "no Message-ID");
        assertThat(message("malformed_empty_date_header_chatwoot").meta().get("warnings")).contains("no Date", "no Message-ID")
                .doesNotContain("sender");
        assertThat(message("windows1251_b_encoded_from_bad_date_year3609").meta().get("warnings"))
                .contains("Date in the future (3609): the arrival time is shown");
        assertThat(message("koi8r_rfc2047_attachment_filename").meta().get("warnings")).contains("no sender address", "no Date");
        // never an address or a word of the text in a warning
        for (String f : List.of("malformed_bad_final_boundary", "malformed_empty_date_header_chatwoot",
                "windows1251_b_encoded_from_bad_date_year3609")) {
            assertThat(message(f).meta().get("warnings")).doesNotContain("@");
        }
        // a sound message carries none
        assertThat(message("thread_rfc5322_1_hello").meta()).doesNotContainKey("warnings");
        assertThat(message("multipart_alternative_related_inline_png").meta()).doesNotContainKey("warnings");
        String fromSenderOnly = "Sender: Assistant <assistant@example.org>\r\nSubject: for my boss\r\nMessage-ID: <s1@example.org>\r\n"
                + "Date: Fri, 2 Feb 2024 10:00:00 +0000\r\n\r\nPlease call him.\r\n";
        CustomerMessage bySender = (CustomerMessage) normalizer.normalize(
                EmailFixtures.envelope(fromSenderOnly.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(bySender.sender().value()).isEqualTo("assistant@example.org");
        assertThat(bySender.meta().get("warnings")).isEqualTo("no usable From: the sender is taken from Sender, Reply-To or Return-Path");
    }

    @Test
    void aHugeBodyIsCutToTheVisibleTextLimitWithAMarkAndTheStartKept() throws Exception {
        // a pasted log of 300,000 characters
        String line = "2025-01-01 00:00:00 ERROR disk full on /var/lib/data, retrying in 5 s\r\n";
        String raw = "From: Customer <c@example.org>\r\nTo: support@example.com\r\nSubject: logs\r\n"
                + "Message-ID: <huge@example.org>\r\nDate: Fri, 2 Feb 2024 10:00:00 +0000\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\nLogs below.\r\n" + line.repeat(300_000 / line.length());
        CustomerMessage m = (CustomerMessage) normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8))).get(0);

        assertThat(m.text()).startsWith("Logs below.").endsWith(" more characters in the original]");
        assertThat(m.text().lastIndexOf("\n[… ")).isEqualTo(EmailNormalizer.TEXT_MAX);
    }

    @Test
    void theCutNeverSplitsACharacterOutsideTheBasicPlane() {
        String text = "a".repeat(EmailNormalizer.TEXT_MAX - 1) + "\uD83D\uDE00" + "b".repeat(10);
        String shown = EmailNormalizer.shown(text);
        assertThat(shown).startsWith("a".repeat(EmailNormalizer.TEXT_MAX - 1) + "\n[… 11 more characters in the original]");
        assertThat(EmailNormalizer.shown("a".repeat(EmailNormalizer.TEXT_MAX))).isEqualTo("a".repeat(EmailNormalizer.TEXT_MAX));
    }

    @Test
    void anOrdinaryBodyIsKeptWhole() throws Exception {
        String text = "Hello, my order 42 has not arrived.";
        String raw = "From: Customer <c@example.org>\r\nTo: support@example.com\r\nSubject: order\r\n"
                + "Message-ID: <ordinary@example.org>\r\nDate: Fri, 2 Feb 2024 10:00:00 +0000\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(m.text()).isEqualTo(text);
    }

    // ------------------------------------------------------------ auto-replies

    private boolean automatic(String subject, String... headers) throws Exception {
        String raw = "From: Customer <c@example.org>\r\nTo: support@example.com\r\nSubject: " + subject + "\r\n"
                + "Message-ID: <auto-" + Math.abs((subject + String.join("", headers)).hashCode()) + "@example.org>\r\n"
                + "Date: Fri, 2 Feb 2024 10:00:00 +0000\r\n" + String.join("\r\n", headers) + (headers.length > 0 ? "\r\n" : "")
                + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello, my order 42 has not arrived.\r\n";
        List<DomainChange> changes = normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8)));
        return ((CustomerMessage) changes.get(0)).automatic();
    }

    @Test
    void precedenceAloneMarksBulkAndJunkButNotListMail() throws Exception {
        assertThat(automatic("Newsletter", "Precedence: bulk")).isTrue();
        assertThat(automatic("Re: question", "Precedence: junk")).isTrue(); // what vacation(1) sends
        assertThat(automatic("Re: question", "Precedence: auto_reply")).isTrue();
        // a mailing list carries people's mail: a customer writing through one still waits for us
        assertThat(automatic("Re: [users] login fails", "Precedence: list")).isFalse();
        assertThat(automatic("Order 42", "Precedence: first-class")).isFalse();
        assertThat(automatic("Order 42")).isFalse();
    }

    @Test
    void subjectsThatOnlyStartLikeAVacationNoticeAreCustomersWriting() throws Exception {
        assertThat(automatic("Out of office hours support?")).isFalse();
        assertThat(automatic("Out of office printer is broken")).isFalse();
        assertThat(automatic("Autoreply settings do not work")).isFalse();
        assertThat(automatic("Вне офиса не работает VPN")).isFalse();
        assertThat(automatic("Отсутствую в списке пользователей")).isFalse();
        // the forms responders write
        assertThat(automatic("Out of Office")).isTrue();
        assertThat(automatic("Out of office: back on Monday")).isTrue();
        assertThat(automatic("Automatic reply: Order 42")).isTrue();
        assertThat(automatic("Auto-Reply: Re: Order 42")).isTrue();
        assertThat(automatic("=?UTF-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiDQt9Cw0LrQsNC3IDQy?=")).isTrue(); // "Автоответ: заказ 42"
    }

    @Test
    void xAutoResponseSuppressAloneIsAnOrdinaryMessage() throws Exception {
        // a request not to be answered automatically, which Outlook and ticket systems put on people's mail
        assertThat(automatic("Order 42", "X-Auto-Response-Suppress: All")).isFalse();
        assertThat(automatic("Order 42", "X-Auto-Response-Suppress: OOF, AutoReply")).isFalse();
        // with Exchange's rules-loop header (or a null return path) it is Exchange's own auto-reply
        assertThat(automatic("Order 42", "X-Auto-Response-Suppress: All", "X-MS-Exchange-Inbox-Rules-Loop: c@example.org")).isTrue();
    }

    @Test
    void vacationRespondersByTheirHeaders() throws Exception {
        assertThat(automatic("Re: Order 42", "Auto-Submitted: auto-replied")).isTrue(); // Gmail, Yandex, Sieve vacation
        assertThat(automatic("Re: Order 42", "Auto-Submitted: auto-replied (vacation)")).isTrue();
        assertThat(automatic("Re: Order 42", "Auto-Submitted: auto-generated")).isTrue();
        assertThat(automatic("Re: Order 42", "Auto-Submitted: no")).isFalse();
        assertThat(automatic("Re: Order 42", "X-Autoreply: yes")).isTrue(); // mail.ru
        assertThat(automatic("Re: Order 42", "X-Autorespond: vacation")).isTrue();
        assertThat(automatic("Re: Order 42", "X-Apple-Action: VACATION/vacation")).isTrue(); // iCloud
        assertThat(automatic("Re: Order 42", "Return-Path: <>")).isTrue();
        assertThat(automatic("Re: Order 42", "X-Autoreply: no")).isFalse();
    }

    @Test
    void autoSubmittedOutOfOffice() throws Exception {
        CustomerMessage m = message("autoreply_auto_submitted_ooo");
        assertThat(m.automatic()).isTrue();
        assertThat(m.sender().value()).isEqualTo("kijitora@example.net");
        assertThat(m.subject()).isEqualTo("Away until May 5");
        assertThat(m.text()).startsWith("I am currently away returning to the office on May 5th.").endsWith("Kijitora, Nyaan.");
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void exchangeAutomaticReplyWithoutAutoSubmitted() throws Exception {
        CustomerMessage m = message("autoreply_exchange_no_auto_submitted_header");
        assertThat(m.automatic()).isTrue();
        assertThat(m.sender().value()).isEqualTo("nekonyaan@example.org");
        assertThat(m.senderName()).isEqualTo("Neko, Nyaan");
        assertThat(m.subject()).isEqualTo("Automatic reply: Nyaan");
        assertThat(m.text()).isEqualTo("I'm out of the office Friday. For pressing news matters, Nyaan.");
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void appleVacationThreadsOntoTheOriginalButIsAutomatic() throws Exception {
        CustomerMessage m = message("autoreply_apple_vacation_in_reply_to");
        assertThat(m.automatic()).isTrue();
        assertThat(m.text()).isEqualTo("I'm only sleeping.");
        assertThat(m.subject()).isEqualTo("Auto reply: Nyaan");
        assertThat(m.sender().value()).isEqualTo("kijitora@apple.example.com");
        assertThat(m.attachments()).isEmpty();
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:25203A4E-F90F-4A14-BF51-3E7B9D39BE8E@libsisimai.org");
    }

    @Test
    void xAutoreplyArabicBase64() throws Exception {
        CustomerMessage m = message("autoreply_x_autoreply_utf8_base64_arabic_chatwoot");
        assertThat(m.automatic()).isTrue();
        assertThat(m.senderName()).isEqualTo("متجر سوق نت");
        assertThat(m.sender().value()).isEqualTo("example@gmail.com");
        assertThat(m.subject()).isEqualTo("أهلين عميلنا الكريم");
        assertThat(m.text()).isEqualTo("أنظروا، أنا أحتاجها فقط لتقوم بالتدقيق في مقالتي الشخصية");
        assertThat(m.attachments()).isEmpty();
        // the duplicated In-Reply-To id is looked up once
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:4e6e35f5a38b4_479f13bb90078178@small-app-01.mail");
    }

    // ------------------------------------------------------------ bounces

    @Test
    void amazonSesDsn() throws Exception {
        DeliveryReceipt r = bounce("bounce_dsn_amazonses");
        assertThat(r.messageKeys()).containsExactly("email:default:xxxxx@email.amazonses.com");
        assertThat(r.reason()).startsWith("5.1.1 Amazon SES did not send the message to this address because it is on the suppression list");
        assertThat(r.recipient()).isEqualTo(new Identity("email", "xxxx@xxxx.com"));
    }

    @Test
    void gmailDsnWithEmptyStatusTakesTheReplyFromTheNotice() throws Exception {
        DeliveryReceipt r = bounce("bounce_dsn_gmail_empty_delivery_status_chatwoot");
        assertThat(r.messageKeys()).containsExactly(
                "email:default:conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com");
        assertThat(r.reason()).startsWith("550 5.1.1 The email account that you tried to reach does not exist.").endsWith("- gsmtp");
        assertThat(r.recipient()).isEqualTo(new Identity("email", "alex.jones@fictionalcorp.com"));
    }

    @Test
    void dsnWithHeadersOnlyMailboxFull() throws Exception {
        DeliveryReceipt r = bounce("bounce_dsn_rfc822_headers_mailsite");
        assertThat(r.messageKeys()).containsExactly("email:default:004801d1fc84$01c934ac$b247f0b7$@infospacemail.com");
        assertThat(r.reason()).isEqualTo("4.2.2 (Persistent transient failure - mailbox: mailbox full)");
        assertThat(r.recipient()).isEqualTo(new Identity("email", "abh@netpar.com.br"));
    }

    @Test
    void yandexDsn() throws Exception {
        DeliveryReceipt r = bounce("bounce_dsn_yandex_ru");
        assertThat(r.messageKeys()).containsExactly("email:default:446281417885946@web20h.yandex.ru");
        assertThat(r.reason()).isEqualTo("550 5.1.1 <kijitora@example.jp>... User Unknown");
        assertThat(r.watermark()).isEqualTo(Instant.parse("2014-12-06T17:12:28Z"));
        assertThat(r.recipient()).isEqualTo(new Identity("email", "kijitora@example.jp"));
    }

    @Test
    void mailRuPlainTextBounce() throws Exception {
        DeliveryReceipt r = bounce("bounce_nondsn_mailru_ru_8bit");
        assertThat(r.messageKeys()).containsExactly("email:default:8F3CE2D8-D60E-48C3-B9AF-BED628EE2CA5@mail.example.ru");
        assertThat(r.reason()).isEqualTo("550 5.1.1 <kijitora@example.jp>... User Unknown");
        assertThat(r.recipient()).isEqualTo(new Identity("email", "kijitora@example.jp"));
    }

    @Test
    void bounceKeyIsTheKeyOfOurSentMessage() throws Exception {
        DeliveryReceipt r = bounce("bounce_dsn_yandex_ru");
        assertThat(normalizer.outboundMessageKey("default", Map.of("email", "x@y"), "<446281417885946@web20h.yandex.ru>"))
                .isEqualTo(r.messageKeys().get(0));
        assertThat(normalizer.outboundMessageKey("default", Map.of(), "446281417885946@web20h.yandex.ru"))
                .isEqualTo(r.messageKeys().get(0));
    }

    // ------------------------------------------------------------ own messages, reply tokens, quotes

    @Test
    void aReplyQuotingOnlyOurMessageIdFindsTheCustomerMessageThroughTheToken() throws Exception {
        String ours = "sb.7f1c." + EmailNormalizer.replyToken("<1234@local.machine.example>") + "@support.example";
        String raw = "From: John Doe <JDoe@Machine.Example>\r\nTo: support@support.example\r\nSubject: Re: Saying Hello\r\n"
                + "Message-ID: <77@machine.example>\r\nIn-Reply-To: <" + ours + ">\r\n\r\nThanks!\r\n";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(m.thread().lookupKeys()).containsExactly("email:default:" + ours, "email:default:1234@local.machine.example");
        assertThat(m.sender().value()).isEqualTo("jdoe@machine.example");
    }

    @Test
    void ourOwnMessageComingBackIsAnEcho() throws Exception {
        String raw = "From: Support <support@support.example>\r\nTo: Customer <c@example.org>\r\nSubject: Re: help\r\n"
                + "Message-ID: <sb.42@support.example>\r\nDate: Tue, 1 Oct 2024 10:00:00 +0000\r\n\r\nHere you go.\r\n";
        List<DomainChange> changes = normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8)));
        assertThat(changes).singleElement().isInstanceOfSatisfying(OwnMessageEchoed.class, e -> {
            assertThat(e.messageKey()).isEqualTo("email:default:sb.42@support.example");
            assertThat(e.recipient()).isEqualTo(new Identity("email", "c@example.org"));
            assertThat(e.text()).isEqualTo("Here you go.");
        });
    }

    @Test
    void mailTheAdapterSawComingFromTheSupportAddressIsOurs() throws Exception {
        String raw = "From: Support <support@support.example>\r\nTo: c@example.org\r\nSubject: Re: help\r\n"
                + "Message-ID: <outlook-123@support.example>\r\nIn-Reply-To: <q1@example.org>\r\n\r\nAnswered from Outlook.\r\n";
        io.switchboard.contract.InboundEnvelope e = io.switchboard.contract.InboundEnvelope.ofBytes("email:default:x",
                Channel.EMAIL, "default", Map.of("fromSupport", "true"), EmailFixtures.RECEIVED, "email:default:q1@example.org",
                "message/rfc822", raw.getBytes(StandardCharsets.UTF_8));
        assertThat(normalizer.normalize(e)).singleElement().isInstanceOfSatisfying(OwnMessageEchoed.class, echo -> {
            assertThat(echo.messageKey()).isEqualTo("email:default:outlook-123@support.example");
            assertThat(echo.thread().lookupKeys()).containsExactly("email:default:q1@example.org");
            assertThat(echo.recipient().value()).isEqualTo("c@example.org");
        });
    }

    @Test
    void quotedHistoryAndSignatureAreNotPartOfTheVisibleText() {
        assertThat(EmailText.visible("Yes, please do.\n\nOn Mon, 3 Feb 2025 at 10:00, Support <s@x.io> wrote:\n> Shall we?\n> Bye"))
                .isEqualTo("Yes, please do.");
        assertThat(EmailText.visible("Да, спасибо.\n\n03.02.2025 10:00, Поддержка пишет:\n> Помогло?"))
                .isEqualTo("Да, спасибо.");
        assertThat(EmailText.visible("Fine.\n\n-----Original Message-----\nFrom: a@b.c\nSent: today\n\nold"))
                .isEqualTo("Fine.");
        assertThat(EmailText.visible("Works now.\n\nFrom: Support <s@x.io>\nSent: Monday\nTo: me\nSubject: Re: x\n\nold text"))
                .isEqualTo("Works now.");
        assertThat(EmailText.visible("Thanks\n-- \nJohn\n+7 900 000 00 00")).isEqualTo("Thanks");
        assertThat(EmailText.visible("Sure.\n\nSent from my iPhone")).isEqualTo("Sure.");
        // a forwarded message is what the customer wants us to read
        assertThat(EmailText.visible("See below.\n\n---------- Forwarded message ---------\nFrom: Bank <no-reply@bank.example>\n"
                + "Date: Mon, 3 Feb 2025\nSubject: Declined\n\nYour card was declined."))
                .endsWith("Your card was declined.");
        assertThat(EmailText.visible("Смотрите ниже.\n\n-------- Пересылаемое сообщение --------\n03.02.2025, 10:00, Банк пишет:\nОтказ."))
                .endsWith("Отказ.");
        // a message that is nothing but a quote keeps its text rather than showing nothing
        assertThat(EmailText.visible("> only a quote")).isEqualTo("> only a quote");
    }

    @Test
    void theWholeBodyIsKeptBesideTheVisibleTextWhenQuotesOrASignatureWereCut() throws Exception {
        String reply = "From: Anna <anna@example.org>\r\nTo: support@example.org\r\nSubject: Re: quota\r\n"
                + "Message-ID: <q1@example.org>\r\nDate: Mon, 3 Feb 2025 10:05:00 +0000\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
                + "Yes, please do.\r\n\r\nOn Mon, 3 Feb 2025 at 10:00, Support <support@example.org> wrote:\r\n"
                + "> Shall we raise your quota?\r\n";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(EmailFixtures.envelope(reply.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(m.text()).isEqualTo("Yes, please do.");
        assertThat(m.meta().get("fullText")).startsWith("Yes, please do.").contains("> Shall we raise your quota?");
        // nothing cut, nothing kept twice
        assertThat(message("thread_rfc5322_1_hello").meta()).doesNotContainKey("fullText");
    }

    @Test
    void quotedHtmlBlocksAreDropped() throws Exception {
        String raw = "From: c@example.org\r\nSubject: x\r\nMessage-ID: <h1@example.org>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                + "<div>New answer, see <a href=\"https://example.org/doc\">the doc</a>.</div>"
                + "<div class=\"gmail_quote\">On Mon wrote:<blockquote>old</blockquote></div>\r\n";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(EmailFixtures.envelope(raw.getBytes(StandardCharsets.UTF_8))).get(0);
        assertThat(m.text()).isEqualTo("New answer, see the doc (https://example.org/doc).");
    }

    @Test
    void notAnEmailGoesToTheDeadLetterTopic() {
        assertThatThrownBy(() -> normalizer.normalize(EmailFixtures.envelope(new byte[0])))
                .isInstanceOf(MalformedEventException.class);
        assertThatThrownBy(() -> normalizer.normalize(EmailFixtures.envelope("{\"json\": true}".getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(MalformedEventException.class);
    }
}
