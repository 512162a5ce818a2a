package io.switchboard.router.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.DomainChange.Thread;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.support.Fixtures;
import io.switchboard.store.Attachment;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The whole normalized result of every file in fixtures/telegram (inbox-contract's test-jar, copies of
 * the shared fixtures; origins in SOURCES.md): text, sender identity and name, keys and thread, time,
 * attachments (kind, name, type, size, ref), reply-to ids, edits, and the reasons of what is ignored
 * or refused. A fixture added without expectations here fails {@link #everyFixtureHasExpectations()}.
 */
class TelegramFixturesTest {

    private final TelegramNormalizer normalizer = new TelegramNormalizer();

    @FunctionalInterface
    interface Expectation {
        void check(String fixture) throws Exception;
    }

    /** A customer message of a private chat, as the normalizer builds it: every field. */
    static CustomerMessage message(long chat, long messageId, long sender, String name, long date, String text,
                                   List<Attachment> attachments, String replyTo, Map<String, String> fields) {
        return new CustomerMessage("telegram:default:" + chat + ":" + messageId, String.valueOf(messageId),
                new Identity("telegram", String.valueOf(sender)), name, Thread.chat("telegram:default:chat:" + chat),
                Map.of("chat_id", String.valueOf(chat)), Instant.ofEpochSecond(date), null, text, attachments, replyTo, false, fields);
    }

    List<DomainChange> run(String fixture) throws MalformedEventException {
        return normalizer.normalize(Fixtures.telegram(fixture));
    }

    Expectation is(DomainChange... expected) {
        return f -> assertThat(run(f)).containsExactly(expected);
    }

    Expectation refused(String reason) {
        return f -> assertThatThrownBy(() -> run(f)).isInstanceOf(MalformedEventException.class).hasMessage(reason);
    }

    Expectation ignored(String reason) {
        return f -> assertThat(run(f)).containsExactly(new Ignored(reason));
    }

    static final String TEST_NAME = "Test Firstname Test Lastname";

    Map<String, Expectation> expectations() {
        Map<String, Expectation> e = new TreeMap<>();
        // a supergroup message mentioning the bot: the group is the thread, the person the sender
        e.put("authored_supergroup_bot_mention.json", is(message(-1001234500001L, 501, 200300400, "Anna", 1730812000,
                "@ExampleHelpdeskBot invoice INV-77 is wrong", List.of(), null, Map.of())));
        // error bodies of the Bot API are not Updates (the client parses them: channel-telegram's TelegramClientTest)
        e.put("error_409_conflict_getupdates.json", refused("not a Telegram Update: no numeric update_id"));
        e.put("error_429_retry_after_parameters.json", refused("not a Telegram Update: no numeric update_id"));
        e.put("error_429_too_many_requests_no_parameters.json", refused("not a Telegram Update: no numeric update_id"));
        // a contact shared by its owner, all names null: no name, the phone number becomes an identity
        e.put("issue_contact_share_null_first_name.json", is(
                message(1111, 111, 11111, null, 1757477109, "Contact: 1111", List.of(), null, Map.of()),
                new ContactUpdate(new Identity("telegram", "11111"), null, null, List.of(new Identity("phone", "1111")), Map.of())));
        // a whole getUpdates answer is not one Update; the Update inside it is a service message
        e.put("telegrambots_getupdates_envelope_write_access_allowed.json", f -> {
            assertThatThrownBy(() -> run(f)).isInstanceOf(MalformedEventException.class)
                    .hasMessage("not a Telegram Update: no numeric update_id");
            JsonNode inner = ContractJson.mapper().readTree(Fixtures.text("telegram/" + f)).path("result").get(0);
            assertThat(normalizer.normalize(InboundEnvelope.ofText("telegram:default:update:329421221", Channel.TELEGRAM, "default",
                    Map.of(), Instant.EPOCH, "telegram:default:chat:11111111", "application/json", inner.toString())))
                    .containsExactly(new Ignored("service message without customer content"));
        });
        e.put("tgdocs_callback_query_inline_message.json", ignored("callback query: inline buttons are not used by the inbox"));
        // the edit replaces the text of the same message key, at edit_date
        e.put("tgdocs_edited_message.json", is(new MessageEdited("telegram:default:1111111:1365", "Edited text",
                Instant.ofEpochSecond(1441646600))));
        // forwarded: the customer who forwarded is the sender (not the channel or person it came from), at the
        // message's date (not forward_date); a bare "/start" carries no deep-link parameter
        e.put("tgdocs_forwarded_channel_message.json", is(message(1111111, 1365, 1111111, TEST_NAME, 1441645532, "/start",
                List.of(), null, Map.of())));
        e.put("tgdocs_forwarded_message.json", is(message(1111111, 1365, 1111111, TEST_NAME, 1441645532, "/start",
                List.of(), null, Map.of())));
        // no chat type: a private chat, never filtered as a group
        e.put("tgdocs_message_start_no_chat_type.json", is(message(1111111, 1365, 1111111, "Test Test Lastname", 1441645532,
                "/start", List.of(), null, Map.of())));
        // entities (bold, italic) are not applied: the text is kept literally
        e.put("tgdocs_message_with_entities.json", is(message(1111111, 1365, 1111111, TEST_NAME, 1441645532,
                "Bold and italics", List.of(), null, Map.of())));
        // a reply keeps the replied message's id; the replied message's chat does not become the thread
        e.put("tgdocs_message_with_reply.json", is(message(1111111, 1365, 1111111, TEST_NAME, 1441645532, "/start",
                List.of(), "1334", Map.of())));
        e.put("zammad_channel_post_bot_command_entity.json", ignored("channel post: a channel broadcasts, no customer writes there"));
        e.put("zammad_channel_post_extra_fields.json", ignored("channel post: a channel broadcasts, no customer writes there"));
        // the document itself, not its thumbnail
        e.put("zammad_private_document_pdf.json", is(message(111111, 2, 111111, TEST_NAME, 1486036832, null,
                List.of(new Attachment("document.pdf", "application/pdf", 123456L, "document", "documentfileid")), null, Map.of())));
        e.put("zammad_private_document_without_mime_type_and_name.json", is(message(111111, 20, 111111, TEST_NAME, 1486036833, null,
                List.of(new Attachment("document", "application/octet-stream", 123456L, "document", "documentfileid")), null, Map.of())));
        // the customer blocked the bot: their identity becomes unreachable
        e.put("zammad_private_my_chat_member_kicked.json", is(new ContactUpdate(new Identity("telegram", "111111"), TEST_NAME,
                false, List.of(), Map.of())));
        // the largest size; the caption is the text, its HTML kept literally
        e.put("zammad_private_photo_caption.json", is(message(111111, 3, 111111, TEST_NAME, 1486036832, "caption 123<b>abc</b>",
                List.of(new Attachment("photo.jpg", "image/jpeg", 123456L, "photo", "photofileid3")), null, Map.of())));
        e.put("zammad_private_start.json", is(message(111111, 1, 111111, TEST_NAME, 1441645532, "/start", List.of(), null, Map.of())));
        e.put("zammad_private_text.json", is(message(111111, 5, 111111, TEST_NAME, 1441645532, "Hello, I need your Help",
                List.of(), null, Map.of())));
        e.put("zammad_private_voice.json", is(message(111111, 7, 111111, TEST_NAME, 1487119496, null,
                List.of(new Attachment("voice.ogg", "audio/ogg", 123456L, "voice", "voicefileid")), null, Map.of())));
        return e;
    }

    @TestFactory
    Stream<DynamicTest> eachFixtureNormalizesToExactlyItsExpectedChanges() throws Exception {
        Map<String, Expectation> expectations = expectations();
        return fixtureNames().stream().filter(expectations::containsKey)
                .map(name -> DynamicTest.dynamicTest(name, () -> expectations.get(name).check(name)));
    }

    @Test
    void everyFixtureHasExpectations() throws Exception {
        TreeSet<String> files = fixtureNames();
        assertThat(files).as("fixtures/telegram on the class path").hasSizeGreaterThanOrEqualTo(22);
        assertThat(expectations().keySet()).as("expectations for exactly the fixture files").isEqualTo(files);
    }

    /** The *.json files of fixtures/telegram, from a directory or from inside the test-jar. */
    static TreeSet<String> fixtureNames() throws IOException, URISyntaxException {
        URI one = TelegramFixturesTest.class.getResource("/fixtures/telegram/zammad_private_text.json").toURI();
        TreeSet<String> names = new TreeSet<>();
        if (one.getScheme().equals("jar")) {
            try (FileSystem jar = FileSystems.newFileSystem(one, Map.of())) {
                list(jar.provider().getPath(one).getParent(), names);
            }
        } else {
            list(Path.of(one).getParent(), names);
        }
        return names;
    }

    private static void list(Path dir, TreeSet<String> names) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).forEach(names::add);
        }
    }
}
