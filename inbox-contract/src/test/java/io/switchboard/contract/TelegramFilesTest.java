package io.switchboard.contract;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The one rule both channel-telegram (what it fetches) and the router (what it lists) follow. */
class TelegramFilesTest {

    static JsonNode json(String text) {
        return ContractJson.mapper().readTree(text);
    }

    @Test
    void theLargestPhotoIsTheGreatestPixelArea_notTheLastEntryNorTheLargestFileSize() {
        // the largest size in the middle, and a smaller size with the greatest file_size last
        JsonNode message = json("""
                {"message_id":1,"chat":{"id":1},"photo":[
                  {"file_id":"small","width":90,"height":90,"file_size":1000},
                  {"file_id":"big","width":1280,"height":960,"file_size":90000},
                  {"file_id":"medium-heavy","width":320,"height":240,"file_size":150000}]}""");
        assertThat(TelegramFiles.largestPhoto(message.path("photo")).path("file_id").asString()).isEqualTo("big");
        assertThat(TelegramFiles.of(message)).singleElement().isEqualTo(
                new TelegramFiles.File("photo", "big", "photo.jpg", "image/jpeg", 90000L));
    }

    @Test
    void equalAreasGoToTheLargerFile_thenToTheLaterEntry_andSizesWithoutFileSizeStillCount() {
        assertThat(TelegramFiles.largestPhoto(json("""
                [{"file_id":"a","width":100,"height":100,"file_size":500},
                 {"file_id":"b","width":100,"height":100,"file_size":400}]""")).path("file_id").asString()).isEqualTo("a");
        assertThat(TelegramFiles.largestPhoto(json("""
                [{"file_id":"a","width":100,"height":100},{"file_id":"b","width":100,"height":100}]""")).path("file_id").asString())
                .isEqualTo("b");
        assertThat(TelegramFiles.largestPhoto(json("""
                [{"file_id":"a","width":800,"height":600},{"file_id":"b","width":100,"height":100,"file_size":9}]""")).path("file_id").asString())
                .isEqualTo("a");
        assertThat(TelegramFiles.largestPhoto(json("[]"))).isNull();
        assertThat(TelegramFiles.largestPhoto(json("{}").path("photo"))).isNull();
    }

    @Test
    void theFixturesPhotoIsItsLargestSize() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/fixtures/telegram/zammad_private_photo_caption.json")) {
            JsonNode update = ContractJson.mapper().readTree(in.readAllBytes());
            assertThat(TelegramFiles.of(update.path("message"))).extracting(TelegramFiles.File::fileId).containsExactly("photofileid3");
        }
    }

    @Test
    void eachFileKindHasItsDefaultsWhenTelegramSendsNoNameOrType() {
        assertThat(TelegramFiles.of(json("{\"document\":{\"file_id\":\"d\"}}")))
                .containsExactly(new TelegramFiles.File("document", "d", "document", "application/octet-stream", null));
        assertThat(TelegramFiles.of(json("{\"document\":{\"file_id\":\"d\",\"file_name\":\"a.pdf\",\"mime_type\":\"application/pdf\",\"file_size\":7}}")))
                .containsExactly(new TelegramFiles.File("document", "d", "a.pdf", "application/pdf", 7L));
        assertThat(TelegramFiles.of(json("{\"voice\":{\"file_id\":\"v\",\"duration\":3}}")))
                .containsExactly(new TelegramFiles.File("voice", "v", "voice.ogg", "audio/ogg", null));
        assertThat(TelegramFiles.of(json("{\"video\":{\"file_id\":\"m\",\"width\":1,\"height\":1,\"duration\":1}}")))
                .containsExactly(new TelegramFiles.File("video", "m", "video.mp4", "video/mp4", null));
        assertThat(TelegramFiles.of(json("{\"video_note\":{\"file_id\":\"n\",\"length\":1,\"duration\":1}}")))
                .containsExactly(new TelegramFiles.File("video_note", "n", "video_note.mp4", "video/mp4", null));
        assertThat(TelegramFiles.of(json("{\"audio\":{\"file_id\":\"au\",\"duration\":1}}")))
                .containsExactly(new TelegramFiles.File("audio", "au", "audio.mp3", "audio/mpeg", null));
    }

    @Test
    void stickersAreWebpTgsOrWebmByTheirFlags() {
        assertThat(TelegramFiles.of(json("{\"sticker\":{\"file_id\":\"s\",\"is_animated\":false,\"is_video\":false}}")))
                .extracting(TelegramFiles.File::name, TelegramFiles.File::contentType)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("sticker.webp", "image/webp"));
        assertThat(TelegramFiles.of(json("{\"sticker\":{\"file_id\":\"s\",\"is_animated\":true}}")))
                .extracting(TelegramFiles.File::contentType).containsExactly("application/x-tgsticker");
        assertThat(TelegramFiles.of(json("{\"sticker\":{\"file_id\":\"s\",\"is_video\":true}}")))
                .extracting(TelegramFiles.File::contentType).containsExactly("video/webm");
    }

    @Test
    void anAnimationIsOneFile_notAlsoTheDocumentTelegramRepeatsItIn() {
        JsonNode message = json("""
                {"animation":{"file_id":"gif","file_name":"cat.mp4","mime_type":"video/mp4"},
                 "document":{"file_id":"gif","file_name":"cat.mp4","mime_type":"video/mp4"}}""");
        assertThat(TelegramFiles.of(message)).singleElement()
                .isEqualTo(new TelegramFiles.File("animation", "gif", "cat.mp4", "video/mp4", null));
    }

    @Test
    void textLocationContactAndNonObjectsHaveNoFiles() {
        assertThat(TelegramFiles.of(json("{\"text\":\"hi\"}"))).isEmpty();
        assertThat(TelegramFiles.of(json("{\"location\":{\"latitude\":1,\"longitude\":2}}"))).isEmpty();
        assertThat(TelegramFiles.of(json("{\"document\":{\"file_name\":\"no id\"}}"))).isEmpty();
        assertThat(TelegramFiles.of(json("[]"))).isEmpty();
        assertThat(TelegramFiles.of(null)).isEmpty();
    }
}
