package io.switchboard.store;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store's write rules on the in-process MongoDB-compatible server the standalone mode uses. */
class InboxStoreTest {

    @RegisterExtension
    static final EmbeddedMongo MONGO = new EmbeddedMongo();
    MongoTemplate mongo;
    InboxStore store;
    static final Instant T0 = Instant.parse("2025-03-12T10:00:00Z");

    @BeforeEach
    void fresh() {
        mongo = MONGO.database("store-test-");
        store = new InboxStore(mongo);
    }

    Conversation chat(String contactId, String chat, Instant at) {
        return store.conversationFor(new InboxStore.ThreadRequest("telegram", "default", "telegram:default:chat:" + chat,
                List.of(), contactId, "Anna", null, Map.of("chat_id", chat), at, Duration.ofDays(7)));
    }

    static Message inbound(String key, Instant at, String text) {
        return new Message(key, key, "inbound", "message", "telegram", key, at, "Anna", text, List.of(), null, null, null,
                null, null, false);
    }

    @Test
    void theSameIdentityIsTheSameContactOnEveryChannel() {
        String a = store.contactFor(new Identity("email", "Anna@Example.org"), "Anna", T0);
        String b = store.contactFor(new Identity("email", "anna@example.org "), "Anna K.", T0);
        assertThat(b).isEqualTo(a);
        assertThat(store.contact(a).orElseThrow().identities()).containsExactly(new Identity("email", "anna@example.org"));
    }

    @Test
    void aPersonWritingByEmailAndTelegramIsOneContactOnceLinked_andLaterMessagesFollow() {
        String byEmail = store.contactFor(new Identity("email", "anna@example.org"), "Anna", T0);
        String byTelegram = store.contactFor(new Identity("telegram", "111111"), "Anna K", T0);
        Conversation telegramChat = chat(byTelegram, "111111", T0);
        assertThat(byTelegram).isNotEqualTo(byEmail);

        // Telegram shares her phone; the email contact gave the same phone before: a suggestion, not a silent merge
        store.enrichContact(byEmail, List.of(new Identity("phone", "+79123456789")), Map.of("login", "anna-k"), T0);
        store.enrichContact(byTelegram, List.of(new Identity("phone", "+79123456789")), Map.of(), T0);
        assertThat(store.mergeSuggestions(byTelegram)).singleElement()
                .satisfies(s -> assertThat(s).containsEntry("contactId", byEmail).extractingByKey("reason").asString().contains("phone"));

        Contact merged = store.mergeContacts(byEmail, byTelegram, "admin", T0.plusSeconds(60));
        assertThat(merged.identities()).extracting(Identity::key)
                .containsExactlyInAnyOrder("email:anna@example.org", "telegram:111111", "phone:+79123456789");
        assertThat(store.find(telegramChat.id()).orElseThrow().contactId()).isEqualTo(byEmail);
        assertThat(store.contactFor(new Identity("telegram", "111111"), "Anna K", T0)).isEqualTo(byEmail);
        assertThat(store.contactOfIdentity(new Identity("telegram", "111111"))).contains(byEmail);
        assertThat(store.mergeSuggestions(byEmail)).isEmpty();
        assertThat(store.conversationsOf(byEmail)).extracting(Conversation::id).containsExactly(telegramChat.id());
        // running the same merge again completes nothing new and fails nothing
        assertThat(store.mergeContacts(byEmail, byTelegram, "admin", T0.plusSeconds(90)).identities()).hasSize(3);
        assertThatThrownBy(() -> store.mergeContacts(byTelegram, byEmail, "admin", T0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sameLoginOnTwoContactsIsSuggested() {
        String a = store.contactFor(new Identity("email", "a@example.org"), "A", T0);
        String b = store.contactFor(new Identity("telegram", "222"), "B", T0);
        store.enrichContact(a, List.of(), Map.of("login", "Cloud-User"), T0);
        store.enrichContact(b, List.of(), Map.of("login", "cloud-user"), T0);
        assertThat(store.mergeSuggestions(a)).extracting(s -> s.get("contactId")).containsExactly(b);
    }

    @Test
    void appendingTheSameMessageTwiceKeepsOneCopy() {
        String contact = store.contactFor(new Identity("telegram", "333"), "C", T0);
        Conversation c = chat(contact, "333", T0);
        assertThat(store.appendMessage(c.id(), inbound("k1", T0, "hi"))).isTrue();
        assertThat(store.appendMessage(c.id(), inbound("k1", T0, "hi"))).isFalse();
        assertThat(store.appendMessage(c.id(), inbound("k2", T0.plusSeconds(1), "again"))).isTrue();
        assertThat(store.transcript(c.id()).orElseThrow().messages()).extracting(Message::key).containsExactly("k1", "k2");
    }

    @Test
    void aChatMessageWithinTheReopenWindowReopens_afterItANewConversationStarts() {
        String contact = store.contactFor(new Identity("telegram", "444"), "D", T0);
        Conversation first = chat(contact, "444", T0);
        store.recordCustomerMessage(first.id(), inbound("m1", T0, "hello"));
        mongo.updateFirst(org.springframework.data.mongodb.core.query.Query.query(
                        org.springframework.data.mongodb.core.query.Criteria.where("_id").is(first.id())),
                new org.springframework.data.mongodb.core.query.Update().set("status", "resolved").set("resolvedAt", T0.plusSeconds(60)),
                Conversation.class);

        Conversation reopened = chat(contact, "444", T0.plus(Duration.ofDays(2)));
        assertThat(reopened.id()).isEqualTo(first.id());
        assertThat(reopened.status()).isEqualTo("open");

        mongo.updateFirst(org.springframework.data.mongodb.core.query.Query.query(
                        org.springframework.data.mongodb.core.query.Criteria.where("_id").is(first.id())),
                new org.springframework.data.mongodb.core.query.Update().set("status", "resolved").set("resolvedAt", T0.plus(Duration.ofDays(2))),
                Conversation.class);
        Conversation next = chat(contact, "444", T0.plus(Duration.ofDays(30)));
        assertThat(next.id()).isNotEqualTo(first.id());
        assertThat(next.status()).isEqualTo("open");
        assertThat(store.conversationByThreadKey("telegram:default:chat:444")).contains(next.id());
    }

    @Test
    void deliveryStatusOnlyMovesForward() {
        String contact = store.contactFor(new Identity("telegram", "555"), "E", T0);
        Conversation c = chat(contact, "555", T0);
        store.appendMessage(c.id(), new Message("out-1", "out:out-1", "outbound", "message", "telegram", null, T0, "agent",
                "reply", List.of(), "pending", null, null, null, null, false));
        assertThat(store.updateDelivery(c.id(), "out-1", "read", "77", null)).isTrue();
        assertThat(store.updateDelivery(c.id(), "out-1", "sent", "77", null)).isFalse();
        assertThat(store.updateDelivery(c.id(), "out-1", "failed", null, "late bounce")).isFalse();
        assertThat(store.message(c.id(), "out-1").orElseThrow().deliveryStatus()).isEqualTo("read");
    }

    @Test
    void aFailureWeGuessedGivesWayToTheChannelsReport_butNeitherAChannelsFailureNorAChannelsSuccessGivesWayToAGuess() {
        String contact = store.contactFor(new Identity("telegram", "556"), "E", T0);
        Conversation c = chat(contact, "556", T0);
        for (String id : List.of("guessed", "bounced", "delivered", "blocked")) {
            store.appendMessage(c.id(), new Message(id, "out:" + id, "outbound", "message", "telegram", null, T0, "agent",
                    "reply", List.of(), "pending", null, null, null, null, false));
        }
        // the command's send timed out: it may still have reached the broker
        assertThat(store.markNotQueued(c.id(), "guessed", "not queued")).isTrue();
        assertThat(store.message(c.id(), "guessed").orElseThrow().failureReason()).isEqualTo("not queued");
        assertThat(store.markNotQueued(c.id(), "guessed", "not queued")).isFalse();
        assertThat(store.updateDelivery(c.id(), "guessed", "sent", "78", null)).isTrue();
        Message sent = store.message(c.id(), "guessed").orElseThrow();
        assertThat(sent.deliveryStatus()).isEqualTo("sent");
        assertThat(sent.failureReason()).isNull();
        assertThat(sent.externalId()).isEqualTo("78");
        // now that the channel has spoken, a bounce is final as usual
        assertThat(store.updateDelivery(c.id(), "guessed", "failed", null, "bounced")).isTrue();
        assertThat(store.updateDelivery(c.id(), "guessed", "sent", "78", null)).isFalse();

        assertThat(store.updateDelivery(c.id(), "bounced", "failed", null, "blocked by the user")).isTrue();
        assertThat(store.updateDelivery(c.id(), "bounced", "sent", "79", null)).isFalse();
        assertThat(store.markNotQueued(c.id(), "bounced", "not queued")).isFalse();
        assertThat(store.message(c.id(), "bounced").orElseThrow().failureReason()).isEqualTo("blocked by the user");

        // the channel's own failure replaces our guess, with its reason, and is final
        assertThat(store.markNotQueued(c.id(), "blocked", "not queued")).isTrue();
        assertThat(store.updateDelivery(c.id(), "blocked", "failed", null, "bot was blocked by the user")).isTrue();
        assertThat(store.message(c.id(), "blocked").orElseThrow().failureReason()).isEqualTo("bot was blocked by the user");
        assertThat(store.updateDelivery(c.id(), "blocked", "sent", "81", null)).isFalse();

        assertThat(store.updateDelivery(c.id(), "delivered", "sent", "80", null)).isTrue();
        assertThat(store.markNotQueued(c.id(), "delivered", "not queued")).isFalse();
        assertThat(store.message(c.id(), "delivered").orElseThrow().deliveryStatus()).isEqualTo("sent");
    }

    @Test
    void sendsInFlightAreListedOldestFirstUntilSettled() {
        store.sendStarted("conv-a", "m-late", T0.plusSeconds(30));
        store.sendStarted("conv-b", "m-early", T0);
        store.sendStarted("conv-c", "m-now", T0.plusSeconds(120));
        assertThat(store.sendsStartedBefore(T0.plusSeconds(60), 10)).containsExactly(
                new InboxStore.SendInFlight("m-early", "conv-b", T0), new InboxStore.SendInFlight("m-late", "conv-a", T0.plusSeconds(30)));
        store.sendSettled("m-early");
        assertThat(store.sendsStartedBefore(T0.plusSeconds(60), 10)).extracting(InboxStore.SendInFlight::messageId)
                .containsExactly("m-late");
    }

    @Test
    void severalIdentitiesAddedAtOnceAreAllKept_andAllMoveOnAMerge() {
        String a = store.contactFor(new Identity("telegram", "9001"), "Anna", T0);
        store.enrichContact(a, List.of(new Identity("email", "anna@example.org"), new Identity("phone", "+79123456789")), Map.of(), T0);
        assertThat(store.contact(a).orElseThrow().identities()).extracting(Identity::key)
                .containsExactlyInAnyOrder("telegram:9001", "email:anna@example.org", "phone:+79123456789");
        String b = store.contactFor(new Identity("telegram", "9002"), "Anna", T0);
        store.mergeContacts(b, a, "agent", T0);
        assertThat(store.contact(b).orElseThrow().identities()).extracting(Identity::key)
                .containsExactlyInAnyOrder("telegram:9002", "telegram:9001", "email:anna@example.org", "phone:+79123456789");
    }

    @Test
    void aContactsTagsChangeAtomically_andAMergeKeepsTheTagsOfBoth() {
        String a = store.contactFor(new Identity("telegram", "9101"), "Anna", T0);
        assertThat(store.contact(a).orElseThrow().tags()).isEmpty();
        assertThat(store.updateContactTags(a, tags -> List.of("vip", "partner"), T0)).contains(List.of("vip", "partner"));
        // each change starts from what is stored now
        assertThat(store.updateContactTags(a, tags -> tags.stream().filter(t -> !t.equals("partner")).toList(), T0))
                .contains(List.of("vip"));
        assertThat(store.contact(a).orElseThrow().tags()).containsExactly("vip");
        assertThat(store.updateContactTags("no-such-contact", tags -> List.of("vip"), T0)).isEmpty();

        String b = store.contactFor(new Identity("telegram", "9102"), "Anna", T0);
        store.updateContactTags(b, tags -> List.of("gold", "vip"), T0);
        store.mergeContacts(b, a, "agent", T0);
        assertThat(store.contact(b).orElseThrow().tags()).containsExactlyInAnyOrder("gold", "vip");
    }

    @Test
    void anUploadLargerThanOneChunkComesBackWhole() {
        byte[] bytes = new byte[InboxStore.UPLOAD_CHUNK_BYTES * 2 + 123];
        new java.util.Random(7).nextBytes(bytes);
        InboxStore.UploadInfo saved = store.saveUpload("up-1", "dump.bin", "application/octet-stream", bytes, "alice", T0);
        assertThat(saved.size()).isEqualTo(bytes.length);
        assertThat(store.uploadInfo("up-1")).get().satisfies(i -> {
            assertThat(i.name()).isEqualTo("dump.bin");
            assertThat(i.uploadedBy()).isEqualTo("alice");
            assertThat(i.uploadedAt()).isEqualTo(T0);
        });
        assertThat(store.upload("up-1")).get().satisfies(f -> assertThat(f.data()).isEqualTo(bytes));
        assertThat(mongo.getCollection(InboxStore.UPLOAD_CHUNKS).countDocuments()).isEqualTo(3);
        assertThat(store.upload("up-none")).isEmpty();
        assertThat(store.file("up-1")).as("uploads are apart from inbound files").isEmpty();
        assertThat(store.saveUpload("up-empty", "e.txt", "text/plain", new byte[0], "alice", T0).size()).isZero();
        assertThat(store.upload("up-empty")).get().satisfies(f -> assertThat(f.data()).isEmpty());
    }

    @Test
    void everyCustomerMessageFeedsTheBoundedSearchField_notOnlyTheNewestPreview() {
        Conversation c = chat("c-search", "search", T0);
        store.recordCustomerMessage(c.id(), inbound("s1", T0, "My   phone\nnumber changed"));
        store.recordCustomerMessage(c.id(), inbound("s2", T0.plusSeconds(60), "and I lost the 2FA device"));
        String search = mongo.findById(c.id(), org.bson.Document.class, Conversation.COLLECTION).getString(InboxStore.SEARCH);
        assertThat(search).isEqualTo("My phone number changed\nand I lost the 2FA device");
        assertThat(store.find(c.id()).orElseThrow().preview()).isEqualTo("and I lost the 2FA device");
    }

    @Test
    void anOverflowingSearchFieldKeepsItsOpeningAndTheNewestWords() {
        String opening = "opening-words " + "a".repeat(10) + " ";
        String current = null;
        for (int i = 0; i < 400; i++) {
            current = InboxStore.searchText(current, (i == 0 ? opening : "") + "message number " + i + " " + "x".repeat(30));
        }
        assertThat(current.length()).isLessThanOrEqualTo(InboxStore.SEARCH_MAX);
        assertThat(current).startsWith("opening-words").contains("message number 399").doesNotContain("message number 100 ");
        assertThat(current.split(" … ", -1)).as("one cut, not one per overflow").hasSize(2);
        assertThat(InboxStore.searchText(current, "  ")).isNull();
    }
}
